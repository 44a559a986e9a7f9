import re
from urllib.parse import quote

import pytest
from chalice.test import Client

from tests.conftest import Deployment, example_event
from tests.integration.helpers import (
    BusRecorder,
    counted_vs_stored,
    counters,
    lambda_context,
    post_form,
    run_outbox,
    summed,
)

pytestmark = pytest.mark.integration


def _invitation(deployment: Deployment) -> dict:
    table = deployment.physical_id("InvitationsTable")
    [item] = deployment.client("dynamodb").scan(TableName=table)["Items"]
    return item


def _started_invitation(deployment: Deployment) -> dict:
    trigger = deployment.load("TriggerFunction")
    trigger.lambda_handler(example_event("purchase-completed.json"), lambda_context())
    return _invitation(deployment)


def test_answer_is_stored_counted_once_and_published(deployment: Deployment) -> None:
    # Given an invitation and the survey app
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    recorder = BusRecorder(deployment)
    with Client(collect.app) as client:
        # When the customer taps 9 in the email: the page opens with 9 chosen, nothing stored
        page = client.http.get(f"/s/{token}?score=9")
        assert page.status_code == 200
        assert re.findall(rb'value="(\d+)" checked', page.body) == [b"9"]
        assert _responses(deployment) == []
        # and sends it, then changes it to 3 with a comment
        assert post_form(client, f"/s/{token}", "score=9").status_code == 200
        thanks = post_form(
            client, f"/s/{token}", "score=3&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E+late"
        )
        assert thanks.status_code == 200
        assert thanks.headers["Content-Security-Policy"].startswith("default-src 'none'")
        # Then the link opened again shows the stored 3; another one-tap link shows its own
        # score chosen and still stores nothing
        again = client.http.get(f"/s/{token}").body
        assert re.findall(rb'value="(\d+)" checked', again) == [b"3"]
        other = client.http.get(f"/s/{token}?score=7").body
        assert re.findall(rb'value="(\d+)" checked', other) == [b"7"]
    # Then one response holds the latest score and the literal comment
    dynamodb = deployment.client("dynamodb")
    response = dynamodb.get_item(
        TableName=deployment.physical_id("ResponsesTable"),
        Key={"invitation_id": invitation["invitation_id"]},
    )["Item"]
    assert response["scores"]["M"]["nps"]["N"] == "3"
    assert response["comment"]["S"] == "<script>alert(1)</script> late"
    assert response["revision"]["N"] == "2"
    # and the counters moved one count from 9 to 3, without counting the response twice
    nps = counters(dynamodb, deployment.physical_id("AggregatesTable"), "post-purchase#nps")
    overall = next(counts for bucket, counts in nps.items() if bucket.endswith("#all"))
    assert overall == {"n": 1, "s3": 1}
    segments = {bucket.split("#", 1)[1] for bucket in nps}
    assert "businessArea=webshop" in segments
    # and once the responses table's stream reaches the outbox, each revision is published
    assert recorder.events() == []  # the request itself publishes nothing
    run_outbox(deployment)
    published = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    assert [e["detail"]["scores"]["nps"] for e in published] == [9, 3]
    assert "comment" not in published[-1]["detail"]


@pytest.mark.parametrize("path", ["/s/" + "x" * 22, "/s/short", "/s/%3Cscript%3E"])
def test_unknown_links_get_a_friendly_404(deployment: Deployment, path: str) -> None:
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        page = client.http.get(path)
    assert page.status_code == 404
    assert b"Traceback" not in page.body
    assert b"<html" in page.body


def test_out_of_range_score_is_refused_and_nothing_stored(deployment: Deployment) -> None:
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        page = post_form(client, f"/s/{token}", "score=11")
    assert page.status_code == 400
    responses = deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("ResponsesTable")
    )["Items"]
    assert responses == []


def _counts(deployment: Deployment) -> tuple[dict, dict]:
    return counted_vs_stored(
        deployment.client("dynamodb"),
        deployment.physical_id("ResponsesTable"),
        deployment.physical_id("AggregatesTable"),
    )


def _responses(deployment: Deployment) -> list[dict]:
    return deployment.client("dynamodb").scan(TableName=deployment.physical_id("ResponsesTable"))[
        "Items"
    ]


def _tampered(token: str) -> list[str]:
    """The real token with one character changed, cut, extended, or its neighbours."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    flip = alphabet[(alphabet.index(token[-1]) + 1) % len(alphabet)]
    first = alphabet[(alphabet.index(token[0]) + 1) % len(alphabet)]
    return [token[:-1] + flip, first + token[1:], token[:-1], token + "A", token.upper()]


def test_tampered_or_enumerated_tokens_are_refused_and_store_nothing(
    deployment: Deployment,
) -> None:
    # Given a real invitation link
    token = _started_invitation(deployment)["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        # When someone changes a character, guesses neighbours, or posts a score to them
        for wrong in [t for t in _tampered(token) if t != token]:
            assert client.http.get(f"/s/{wrong}?score=0").status_code == 404, wrong
            assert post_form(client, f"/s/{wrong}", "score=0").status_code == 404, wrong
        # Then nothing was stored; the real link still works
        assert _responses(deployment) == []
        assert client.http.get(f"/s/{token}").status_code == 200


def test_a_closed_or_expired_survey_answers_410_and_stores_nothing(
    deployment: Deployment,
) -> None:
    # Given an open invitation
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    closes_at = invitation["closes_at"]["S"]
    # When its validity window has passed (the handler's clock is after closes_at)
    after = deployment.load("CollectFunction", LOCAL_CLOCK="2027-06-01T00:00:00+00:00|0|0")
    with Client(after.app) as client:
        late_get = client.http.get(f"/s/{token}?score=9")
        late_post = post_form(client, f"/s/{token}", "score=9")
    # and when the lifecycle has marked it expired
    deployment.client("dynamodb").update_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": invitation["invitation_id"]},
        UpdateExpression="SET #s = :expired",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":expired": {"S": "expired"}},
    )
    with Client(deployment.load("CollectFunction").app) as client:
        expired = client.http.get(f"/s/{token}")
    # Then each gets the friendly "closed" page in the customer's language (Finnish), naming
    # the company and saying there is nothing more to do; nothing is stored
    assert closes_at < "2027-06-01"
    for page in (late_get, late_post, expired):
        assert page.status_code == 410
        assert b"Traceback" not in page.body and b"<h1>" in page.body
        assert "Kysely on päättynyt".encode() in page.body
        assert "Example Oy:n kysely on päättynyt".encode() in page.body
    assert _responses(deployment) == []


def test_an_answered_survey_says_so_and_after_closing_says_the_answer_was_received(
    deployment: Deployment,
) -> None:
    # Given an invitation the customer answered
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    with Client(deployment.load("CollectFunction").app) as client:
        assert post_form(client, f"/s/{token}", "score=8").status_code == 200
        # When they open the link again while the survey is open
        again = client.http.get(f"/s/{token}")
    # Then the page says the answer was received and shows it, to change if they like
    assert again.status_code == 200
    assert b"Olemme saaneet vastauksesi" in again.body
    assert re.search(rb'value="8" checked', again.body)
    # When they open it after the survey closed
    after = deployment.load("CollectFunction", LOCAL_CLOCK="2027-06-01T00:00:00+00:00|0|0")
    with Client(after.app) as client:
        closed = client.http.get(f"/s/{token}")
    # Then it says the answer was received and can no longer be changed
    assert closed.status_code == 410
    assert b"Vastauksesi on vastaanotettu" in closed.body
    assert "ei voi enää muuttaa".encode() in closed.body


def test_a_double_submit_keeps_one_response_counted_once(deployment: Deployment) -> None:
    # Given an open invitation
    token = _started_invitation(deployment)["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        # When the form is sent twice (a double tap), then once more with another score
        for form in ("score=7&comment=ok", "score=7&comment=ok", "score=10&comment=ok"):
            assert post_form(client, f"/s/{token}", form).status_code == 200
    # Then one response, revision 3, counted once at 10
    [response] = _responses(deployment)
    assert response["revision"]["N"] == "3"
    assert response["scores"]["M"]["nps"]["N"] == "10"
    counted, expected = _counts(deployment)
    assert counted == expected
    overall = summed(counted)
    assert overall == {"n": 1, "s10": 1}


def test_comments_take_any_utf8_up_to_the_cap_and_are_stored_literally(
    deployment: Deployment,
) -> None:
    token = _started_invitation(deployment)["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    at_cap = ("Åäö 😀 <b>&amp;</b> " * 60)[:1000]
    with Client(collect.app) as client:
        # Over the cap: refused with the reason, the typed text kept in the form, nothing stored
        too_long = post_form(client, f"/s/{token}", f"score=5&comment={quote(at_cap + 'x')}")
        assert too_long.status_code == 400
        assert "1000" in too_long.body.decode() or "1 000" in too_long.body.decode()
        assert _responses(deployment) == []
        # At the cap, with emoji and markup: stored exactly as typed, shown escaped
        assert (
            post_form(client, f"/s/{token}", f"score=5&comment={quote(at_cap)}").status_code == 200
        )
        [response] = _responses(deployment)
        assert response["comment"]["S"] == at_cap
        page = client.http.get(f"/s/{token}").body.decode()
        assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page and "<b>" not in page
        # Bytes that are not UTF-8 do not break anything: replaced, never a 500
        broken = client.http.post(
            f"/s/{token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"score=6&comment=%FF%FE caf\xe9",
        )
        assert broken.status_code == 200
        assert _responses(deployment)[0]["scores"]["M"]["nps"]["N"] == "6"


def test_a_survey_with_two_metrics_asks_both_and_counts_each(deployment: Deployment) -> None:
    # Given a service-contact invitation (CSAT, then CES on the 1-7 ease scale)
    trigger = deployment.load("TriggerFunction")
    for number in range(50):  # the survey samples half the customers: take one picked
        event = example_event("service-contact-closed.json")
        event["detail"]["customer"]["id"] = f"cust-{number}"
        [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
        if decision["outcome"] == "started":
            break
    token = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": {"S": decision["invitation_id"]}},
    )["Item"]["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        # When the customer opens the one-tap CSAT link: both questions are on the page
        page = client.http.get(f"/s/{token}?score=4").body.decode()
        # (each scale's scores, after its "no choice" stop)
        assert page.count('name="score" id="score-') == 6
        assert page.count('name="score_ces" id="score_ces-') == 8
        assert 'value="4" checked' in page
        # and an invalid ease score is refused, then both are answered
        assert post_form(client, f"/s/{token}", "score=4&score_ces=9").status_code == 400
        assert post_form(client, f"/s/{token}", "score=4&score_ces=6").status_code == 200
    # Then one response holds both, and each metric's series counts it once
    [response] = _responses(deployment)
    assert {k: v["N"] for k, v in response["scores"]["M"].items()} == {"csat": "4", "ces": "6"}
    counted, expected = _counts(deployment)
    assert counted == expected
    assert {series for series, _, _ in counted} == {"service-contact#csat", "service-contact#ces"}


def test_aggregates_stay_exact_through_changed_answers(deployment: Deployment) -> None:
    # Given three customers' invitations
    collect = deployment.load("CollectFunction")
    trigger = deployment.load("TriggerFunction")
    tokens = []
    for number in range(3):
        event = example_event("purchase-completed.json")
        event["detail"]["customer"]["id"] = f"cust-{number}"
        event["detail"]["orderId"] = f"A-{number}"
        [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
        tokens.append(
            deployment.client("dynamodb").get_item(
                TableName=deployment.physical_id("InvitationsTable"),
                Key={"invitation_id": {"S": decision["invitation_id"]}},
            )["Item"]["link_token"]["S"]
        )
    # When they answer, change their minds (a one-tap link and its page's send button, or the
    # form alone), and answer again
    with Client(collect.app) as client:
        for token, scores in zip(tokens, ([9, 3, 3, 10], [0], [5, 6, 5]), strict=True):
            for number, score in enumerate(scores):
                if number % 2:
                    assert client.http.get(f"/s/{token}?score={score}").status_code == 200
                assert post_form(client, f"/s/{token}", f"score={score}").status_code == 200
    # Then the counters equal a recount of the stored responses: 10, 0 and 5, once each
    counted, expected = _counts(deployment)
    assert counted == expected
    overall = summed(counted)
    assert overall == {"n": 3, "s10": 1, "s0": 1, "s5": 1}
