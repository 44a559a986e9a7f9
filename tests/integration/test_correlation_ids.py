"""Each request's log lines carry that request's correlation id, from its first line on: in a
warm sandbox the module-level logger still holds the previous request's id, and an error logged
before the handler got to its usual set_correlation_id would be filed under the wrong survey."""

import json
from typing import Any

import pytest
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import AwsCalls, lambda_context, log_records, post_form
from tests.integration.test_send import FIXED_CLOCK, _rung, _start

pytestmark = pytest.mark.integration


def _answer_transactions(app: Any) -> AwsCalls:
    """The answer's DynamoDB transactions of a loaded survey app (its own repositories), to
    make one fail after the invitation was found."""
    dal = type(app.REPOS.responses).get.__globals__  # the app's dal/responses.py
    region = getattr(dal["models"].Response.Meta, "region", None)
    return AwsCalls(dal["transactions"](region).client, "TransactWriteItems")


def test_a_failing_page_after_a_good_one_logs_under_its_own_survey(
    deployment: Deployment,
) -> None:
    # Given two invitations, the second one's lifecycle waiting on its first message, and one
    # warm survey app
    first = _start(deployment, customer={"id": "c-first"}, order="A-1")
    second = _start(deployment, customer={"id": "c-second"}, order="A-2")
    _rung(deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK), second, 0)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    transactions = _answer_transactions(collect)
    with Client(collect.app) as client, log_records(collect.logger) as records:
        # When the first page opens fine, and the second survey's answer fails after its
        # invitation was found (DynamoDB refuses the answer's transaction)
        assert client.http.get(f"/s/{first['link_token']['S']}").status_code == 200
        transactions.fail_next("AccessDeniedException")
        failed = post_form(client, f"/s/{second['link_token']['S']}", "score=3")
        # and a third request names no survey at all
        assert client.http.get("/s/" + "x" * 22).status_code == 404
    # Then the error line carries the second survey's id, not the first's
    assert failed.status_code == 500
    [error] = [r for r in records if r["message"] == "survey page failed"]
    assert error["correlation_id"] == second["invitation_id"]["S"]
    # and the request without a survey is filed under its own request id: neither survey's
    pages = [r for r in records if r["message"] == "survey page"]
    assert [p["status"] for p in pages] == [200, 500, 404]
    surveys = {first["invitation_id"]["S"], second["invitation_id"]["S"]}
    assert pages[2]["correlation_id"] is not None
    assert pages[2]["correlation_id"] not in surveys
    assert len({p["function_request_id"] for p in pages}) == 3


def test_a_page_failed_by_an_aws_error_is_logged_as_an_error(deployment: Deployment) -> None:
    # Given an invitation and the survey app, and DynamoDB refusing the answer's transaction
    invitation = _start(deployment)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _answer_transactions(collect).fail_next("AccessDeniedException")
    with Client(collect.app) as client, log_records(collect.logger) as records:
        # When the customer answers
        failed = post_form(client, f"/s/{invitation['link_token']['S']}", "score=9")
    # Then the page says something went wrong, and an error line says which survey
    assert failed.status_code == 500
    [error] = [r for r in records if r["level"] == "ERROR"]
    assert error["message"] == "survey page failed"
    assert error["correlation_id"] == invitation["invitation_id"]["S"]
    assert "TransactWriteError" in error["exception_name"]


def _sms_event(sender: str, body: str, message_id: str) -> dict[str, Any]:
    payload = {
        "originationNumber": sender,
        "destinationNumber": "+358451234567",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": f"inbound-{message_id}",
        "previousPublishedMessageId": None,
    }
    sns = {"Type": "Notification", "MessageId": message_id, "Subject": None}
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {**sns, "Message": json.dumps(payload), "MessageAttributes": {}},
            }
        ]
    }


def test_a_failing_sms_reply_after_a_good_one_logs_under_its_own_survey(
    deployment: Deployment,
) -> None:
    # Given two invitations whose SMS reminders went out to two numbers
    invitations = []
    for order, phone in (("A-1", "+358401111111"), ("A-2", "+358402222222")):
        invitation = _start(deployment, customer={"id": f"c-{order}", "phone": phone}, order=order)
        send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
        assert _rung(send, invitation, 1)["channel"] == "sms"
        invitations.append(invitation["invitation_id"]["S"])
    replies = deployment.load("SmsReplyFunction", LOCAL_CLOCK=FIXED_CLOCK)
    transactions = _answer_transactions(replies)
    with log_records(replies.logger) as records:
        # When the first number answers fine, and the second one's answer fails after its
        # invitation was found
        replies.sms_reply(_sms_event("+358401111111", "9", "sns-1"), lambda_context())
        transactions.fail_next("AccessDeniedException")
        with pytest.raises(Exception, match="Failed to write transaction items"):
            replies.sms_reply(_sms_event("+358402222222", "3 slow", "sns-2"), lambda_context())
        # and a third message is not an inbound SMS at all
        replies.sms_reply(
            {
                "Records": [
                    {
                        "EventSource": "aws:sns",
                        "Sns": {
                            "MessageId": "sns-3",
                            "Subject": None,
                            "Message": "not json",
                            "MessageAttributes": {},
                        },
                    }
                ]
            },
            lambda_context(),
        )
    # Then the failure is logged under the second survey, the rejection under its message
    [error] = [r for r in records if r["message"] == "sms reply failed"]
    assert error["correlation_id"] == invitations[1]
    [rejected] = [r for r in records if r["message"] == "inbound SMS rejected"]
    assert rejected["correlation_id"] == "sns-3"
