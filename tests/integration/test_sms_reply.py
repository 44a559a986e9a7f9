"""SMS replies against moto: the reply handler of the collect app, fed SNS events as End User
Messaging publishes them."""

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from survey_core.domain.suppressions import address_key
from survey_core.messages.sms import sms_size

from tests.conftest import Deployment
from tests.integration.helpers import (
    BusRecorder,
    counters,
    emf_metrics,
    lambda_context,
    run_outbox,
    sent_sms,
)
from tests.integration.test_send import NOW, PHONE, _invitation, _rung, _start

pytestmark = pytest.mark.integration


def _clock(hours: float) -> str:
    return f"{(NOW + timedelta(hours=hours)).isoformat()}|0|0"


def _sms_sent(deployment: Deployment, order: str, customer_id: str, at_hours: float) -> dict:
    """A post-purchase invitation whose SMS reminder (rung 1) went out at NOW + at_hours."""
    invitation = _start(deployment, customer={"id": customer_id}, order=order)
    send = deployment.load("SendFunction", LOCAL_CLOCK=_clock(at_hours))
    assert _rung(send, invitation, 1)["channel"] == "sms"
    return _invitation(deployment, invitation["invitation_id"]["S"])


_INBOUND_IDS = itertools.count(1)


def _reply(
    deployment: Deployment,
    body: str,
    *,
    sender: str = PHONE,
    at_hours: float = 30,
    in_reply_to: str | None = None,
    raw: str | None = None,
    inbound_id: str | None = None,
    collect: Any = None,
) -> Any:
    """One inbound SMS; each a message of its own (its own inboundMessageId) unless
    inbound_id names the message being delivered again."""
    payload = {
        "originationNumber": sender,
        "destinationNumber": "+358451234567",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": inbound_id or f"0f3e2d1c-0000-4000-8000-{next(_INBOUND_IDS):012d}",
        "previousPublishedMessageId": in_reply_to,
    }
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "Subject": None,
                    "Message": raw if raw is not None else json.dumps(payload),
                    "MessageAttributes": {},
                },
            }
        ]
    }
    collect = collect or deployment.load("SmsReplyFunction", LOCAL_CLOCK=_clock(at_hours))
    return collect.sms_reply(event, lambda_context())


def _response(deployment: Deployment, invitation: dict) -> dict | None:
    return (
        deployment.client("dynamodb")
        .get_item(
            TableName=deployment.physical_id("ResponsesTable"),
            Key={"invitation_id": invitation["invitation_id"]},
            ConsistentRead=True,
        )
        .get("Item")
    )


def _counters(deployment: Deployment) -> dict[str, dict[str, str]]:
    """The score counters of every survey, "all" key only, per "{day}#all"."""
    dynamodb, table = deployment.client("dynamodb"), deployment.physical_id("AggregatesTable")
    series = {i["series"]["S"] for i in dynamodb.scan(TableName=table)["Items"]}
    return {
        bucket: {k: str(n) for k, n in counts.items()}
        for name in series
        if name.endswith("#nps")
        for bucket, counts in counters(dynamodb, table, name).items()
        if bucket.endswith("#all")
    }


def test_a_score_answers_the_most_recent_survey_that_asked_by_sms(
    deployment: Deployment,
) -> None:
    # Given two open invitations that texted the same number, the second one an hour later
    older = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    newer = _sms_sent(deployment, "A-2", "cust-0002", at_hours=25)
    recorder = BusRecorder(deployment)
    # When the customer replies with a score and a comment
    _reply(deployment, "8 nopea toimitus <b>kiitos</b>")
    # Then the newer invitation holds the answer, from the SMS channel, the comment literal
    response = _response(deployment, newer)
    assert response is not None
    assert response["scores"]["M"]["nps"]["N"] == "8"
    assert response["comment"]["S"] == "nopea toimitus <b>kiitos</b>"
    assert response["channel"]["S"] == "sms"
    assert _invitation(deployment, newer["invitation_id"]["S"])["status"]["S"] == "answered"
    # and the older one is untouched
    assert _response(deployment, older) is None
    assert _invitation(deployment, older["invitation_id"]["S"])["status"]["S"] == "sent"
    # and the answer is counted once and published
    [overall] = _counters(deployment).values()
    assert (overall["n"], overall["s8"]) == ("1", "1")
    run_outbox(deployment)  # the stored answer's consequences, from the responses stream
    [published] = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    assert published["detail"]["channel"] == "sms"
    assert published["detail"]["invitationId"] == newer["invitation_id"]["S"]
    assert "nopea" not in json.dumps(published)  # comments stay out of events


def test_the_message_the_carrier_names_wins_over_the_most_recent(
    deployment: Deployment,
) -> None:
    # Given two open invitations that texted the same number
    older = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    newer = _sms_sent(deployment, "A-2", "cust-0002", at_hours=25)
    [older_sms] = [a["M"] for a in older["attempts"]["L"] if a["M"]["channel"]["S"] == "sms"]
    # When the reply says which of our messages it answers (previousPublishedMessageId)
    _reply(deployment, "10", in_reply_to=older_sms["message_id"]["S"])
    # Then that invitation is answered, not the newest
    assert _response(deployment, older) is not None
    assert _response(deployment, newer) is None


def test_an_unreadable_reply_gets_one_short_help_reply_in_the_customers_language(
    deployment: Deployment,
) -> None:
    # Given an open invitation that texted the customer
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    before = len(sent_sms())
    # When the customer replies with words, then out of range, then a score
    _reply(deployment, "ihan ok kai")
    _reply(deployment, "11")
    help_texts = sent_sms()[before:]
    _reply(deployment, "7")
    # Then one help SMS went out, in Finnish, in one segment, naming the scale
    [(phone, text)] = help_texts
    assert phone == PHONE
    assert "0-10" in text and "numerolla" in text
    assert sms_size(text).segments == 1
    # and no more SMS after it, and the later score was stored
    assert len(sent_sms()) == before + 1
    response = _response(deployment, invitation)
    assert response is not None and response["scores"]["M"]["nps"]["N"] == "7"


@pytest.mark.parametrize("word", ["STOP", "lopeta", "Sluta!"])
def test_a_stop_word_opts_the_number_out_and_the_sms_rungs_are_skipped(
    deployment: Deployment, word: str
) -> None:
    # Given an invitation whose SMS went out (rung 1 of email, SMS, email)
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    # When the customer replies with a stop word
    _reply(deployment, word)
    # Then the number is on the suppression list as a stop reply, without the number itself
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("SuppressionsTable"),
        Key={"address_key": {"S": address_key("sms", PHONE)}},
        ConsistentRead=True,
    )["Item"]
    assert (item["reason"]["S"], item["source"]["S"]) == ("stop-reply", "sms-reply")
    assert item["invitation_id"]["S"] == invitation["invitation_id"]["S"]
    assert PHONE not in json.dumps(item)
    # and nothing is answered
    assert _response(deployment, invitation) is None
    # and a later SMS of that invitation is not sent (its rung 1 retried as a fallback SMS)
    before = len(sent_sms())
    send = deployment.load("SendFunction", LOCAL_CLOCK=_clock(31))
    fallback = {"channel": "sms", "at": (NOW + timedelta(hours=31)).isoformat(), "wait": 0}
    result = _rung(send, invitation, 1, fallback=fallback)
    assert result["outcome"] == "skipped"
    assert len(sent_sms()) == before


def test_a_stop_word_from_a_number_without_a_survey_still_opts_it_out(
    deployment: Deployment,
) -> None:
    _reply(deployment, "STOP", sender="+358409999999")
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("SuppressionsTable"),
        Key={"address_key": {"S": address_key("sms", "+358409999999")}},
    )["Item"]
    assert item["reason"]["S"] == "stop-reply"
    assert "invitation_id" not in item


def test_a_score_after_the_survey_closed_or_from_a_stranger_is_not_stored(
    deployment: Deployment,
) -> None:
    # Given an invitation that texted the customer; post-purchase closes 7 days after sending
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    closes_at = invitation["closes_at"]["S"]
    # When the customer answers after it closed, and a stranger answers at once
    _reply(deployment, "9", at_hours=24 * 9)
    _reply(deployment, "9", sender="+358409999999")
    # Then nothing is stored or counted, and no SMS is sent back
    assert closes_at < (NOW + timedelta(hours=24 * 9)).isoformat()
    assert _response(deployment, invitation) is None
    assert _counters(deployment) == {}
    assert len(sent_sms()) == 1  # only the reminder itself


def test_a_bare_score_by_sms_replaces_the_web_score_and_keeps_the_comment(
    deployment: Deployment,
) -> None:
    from chalice.test import Client

    from tests.integration.helpers import post_form

    # Given a customer who answered 3 with a comment on the page
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=_clock(26))
    with Client(collect.app) as client:
        token = invitation["link_token"]["S"]
        assert post_form(client, f"/s/{token}", "score=3&comment=Hidas").status_code == 200
    # When they then text 6
    _reply(deployment, "6")
    # Then one response: score 6, the comment kept; counted once, moved from 3 to 6
    response = _response(deployment, invitation)
    assert response is not None
    assert response["scores"]["M"]["nps"]["N"] == "6"
    assert response["comment"]["S"] == "Hidas"
    [overall] = _counters(deployment).values()
    assert overall == {"n": "1", "s6": "1"}


@pytest.mark.parametrize(
    "raw",
    ["not json", "[]", json.dumps({"messageBody": "9"}), json.dumps({"originationNumber": "x"})],
)
def test_a_message_that_is_not_an_inbound_sms_is_rejected_without_a_crash(
    deployment: Deployment, raw: str
) -> None:
    assert _reply(deployment, "", raw=raw) is None
    assert sent_sms() == []


def _suppression(deployment: Deployment, phone: str = PHONE) -> dict | None:
    return (
        deployment.client("dynamodb")
        .get_item(
            TableName=deployment.physical_id("SuppressionsTable"),
            Key={"address_key": {"S": address_key("sms", phone)}},
            ConsistentRead=True,
        )
        .get("Item")
    )


def test_the_same_reply_delivered_twice_is_one_answer_and_at_most_one_help_sms(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an open invitation that texted the customer
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    recorder = BusRecorder(deployment)
    before = len(sent_sms())
    capsys.readouterr()
    # When SNS delivers one unreadable reply twice, then one score reply twice (same ids)
    _reply(deployment, "en tiedä", inbound_id="inbound-help")
    _reply(deployment, "en tiedä", inbound_id="inbound-help")
    _reply(deployment, "8 nopea toimitus", inbound_id="inbound-score")
    _reply(deployment, "8 nopea toimitus", inbound_id="inbound-score")
    # Then one help SMS went out
    assert len(sent_sms()) == before + 1
    # and the score is one answer: revision 1, counted once, published once
    response = _response(deployment, invitation)
    assert response is not None
    assert (response["revision"]["N"], response["scores"]["M"]["nps"]["N"]) == ("1", "8")
    assert [i["S"] for i in response["inbound_ids"]["L"]] == ["inbound-score"]
    [overall] = _counters(deployment).values()
    assert overall == {"n": "1", "s8": "1"}
    run_outbox(deployment)  # one stored revision: one record on the responses stream
    published = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    assert len(published) == 1
    # and the duplicate is counted apart, the answer once
    stdout = capsys.readouterr().out
    totals, _ = emf_metrics(stdout)
    assert totals["SmsReply_duplicate"] == 1
    assert (totals["SmsReply_answered"], totals["Answers"], totals["AnswersChanged"]) == (1, 1, 0)
    assert "nopea" not in stdout and PHONE not in stdout  # no personal data in the logs


def test_a_redelivered_reply_does_not_undo_a_later_answer(deployment: Deployment) -> None:
    from chalice.test import Client

    from tests.integration.helpers import post_form

    # Given a customer who texted 6, then changed the answer to 3 on the page
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    _reply(deployment, "6", inbound_id="inbound-six")
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=_clock(31))
    with Client(collect.app) as client:
        token = invitation["link_token"]["S"]
        assert post_form(client, f"/s/{token}", "score=3").status_code == 200
    # When the SMS "6" is delivered again (a Lambda retry minutes later)
    _reply(deployment, "6", inbound_id="inbound-six", at_hours=32)
    # Then the answer stays 3, at the page's revision, counted once at 3
    response = _response(deployment, invitation)
    assert response is not None
    assert (response["scores"]["M"]["nps"]["N"], response["revision"]["N"]) == ("3", "2")
    [overall] = _counters(deployment).values()
    assert overall == {"n": "1", "s3": "1"}


def test_concurrent_deliveries_of_one_reply_apply_it_once(deployment: Deployment) -> None:
    # Given an open invitation that texted the customer, and a warm reply function
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    collect = deployment.load("SmsReplyFunction", LOCAL_CLOCK=_clock(30))
    _reply(deployment, "9", sender="+358409999999", collect=collect)  # no survey: a warm-up
    start_together = threading.Barrier(8, timeout=120)

    def deliver(_: int) -> None:
        start_together.wait()
        _reply(deployment, "9 hyvä", inbound_id="inbound-race", collect=collect)

    # When eight deliveries of the same reply run at the same moment
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(deliver, range(8)))
    # Then one answer, revision 1, counted once
    response = _response(deployment, invitation)
    assert response is not None
    assert (response["revision"]["N"], response["scores"]["M"]["nps"]["N"]) == ("1", "9")
    [overall] = _counters(deployment).values()
    assert overall == {"n": "1", "s9": "1"}


def test_after_an_opt_out_a_reply_that_needs_help_gets_no_sms(deployment: Deployment) -> None:
    # Given an open invitation that texted the customer
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    before = len(sent_sms())
    # When the customer texts STOP (delivered twice), then something unreadable, then 11
    _reply(deployment, "STOP", inbound_id="inbound-stop")
    _reply(deployment, "STOP", inbound_id="inbound-stop")
    _reply(deployment, "mitä?")
    _reply(deployment, "11")
    # Then no SMS at all went to the number: no help reply, no confirmation of ours
    assert len(sent_sms()) == before
    # and the number is suppressed once (the redelivery wrote the same item), nothing answered
    item = _suppression(deployment)
    assert item is not None and item["reason"]["S"] == "stop-reply"
    assert len(deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("SuppressionsTable"))["Items"]) == 1  # fmt: skip
    assert _response(deployment, invitation) is None
    # and the help SMS was not claimed either
    assert "help_replied_at" not in _invitation(deployment, invitation["invitation_id"]["S"])


@pytest.mark.parametrize(
    "phrase", ["Lopettakaa viestit, kiitos", "Please stop texting me!", "Nej tack."]
)
def test_an_opt_out_phrase_stops_the_next_sms_reminder(deployment: Deployment, phrase: str) -> None:
    # Given two invitations to one number: the first texted, the second's SMS rung still to come
    _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    second = _start(deployment, customer={"id": "cust-0002"}, order="A-2")
    before = len(sent_sms())
    # When the customer answers the first SMS with an opt-out phrase
    _reply(deployment, phrase)
    # Then the number is suppressed, and the second invitation's SMS reminder sends nothing
    item = _suppression(deployment)
    assert item is not None and item["reason"]["S"] == "stop-reply"
    send = deployment.load("SendFunction", LOCAL_CLOCK=_clock(31))
    assert _rung(send, second, 1)["outcome"] == "skipped"
    assert len(sent_sms()) == before  # no help reply, no reminder


def test_a_saying_that_ends_with_a_score_answers_and_does_not_opt_out(
    deployment: Deployment,
) -> None:
    # Given two invitations to one number: the first texted, the second's SMS rung still to come
    invitation = _sms_sent(deployment, "A-1", "cust-0001", at_hours=24)
    second = _start(deployment, customer={"id": "cust-0002"}, order="A-2")
    # When the customer texts "all's well that ends well 10" in Finnish ("loppu": "end")
    _reply(deployment, "Loppu hyvin kaikki hyvin 10")
    # Then a 10 is stored with the saying as the comment
    response = _response(deployment, invitation)
    assert response is not None
    assert response["scores"]["M"]["nps"]["N"] == "10"
    assert response["comment"]["S"] == "Loppu hyvin kaikki hyvin"
    # and the number is not suppressed: the next SMS reminder goes out
    assert _suppression(deployment) is None
    before = len(sent_sms())
    send = deployment.load("SendFunction", LOCAL_CLOCK=_clock(31))
    assert _rung(send, second, 1)["outcome"] == "sent"
    assert len(sent_sms()) == before + 1
