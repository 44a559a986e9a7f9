"""SMS replies against moto: the reply handler of the collect app, fed SNS events as End User
Messaging publishes them."""

import json
from datetime import timedelta
from typing import Any

import pytest
from survey_core.dal.suppressions import address_key
from survey_core.sms import sms_size

from tests.conftest import Deployment
from tests.integration.helpers import BusRecorder, lambda_context, run_outbox, sent_sms
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


def _reply(
    deployment: Deployment,
    body: str,
    *,
    sender: str = PHONE,
    at_hours: float = 30,
    in_reply_to: str | None = None,
    raw: str | None = None,
) -> Any:
    payload = {
        "originationNumber": sender,
        "destinationNumber": "+358451234567",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": "0f3e2d1c-0000-4000-8000-000000000001",
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
    collect = deployment.load("SmsReplyFunction", LOCAL_CLOCK=_clock(at_hours))
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
    items = deployment.client("dynamodb").scan(TableName=deployment.physical_id("AggregatesTable"))[
        "Items"
    ]
    return {
        item["bucket"]["S"]: {k: v["N"] for k, v in item.items() if "N" in v and v["N"] != "0"}
        for item in items
        if item["bucket"]["S"].endswith("#all") and item["series"]["S"].endswith("#nps")
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
