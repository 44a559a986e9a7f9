"""The report's counters: each message, first answer and callback task counted exactly once,
under the day and every segment key, in the transaction that records it."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import counters, lambda_context, post_form
from tests.integration.test_escalate import MONDAY_NOON, _event, _store_response
from tests.integration.test_follow_up import TASK, event
from tests.integration.test_send import FIXED_CLOCK, _rung, _start

pytestmark = pytest.mark.integration


def _counters(deployment: Deployment, series: str) -> dict[str, dict[str, int]]:
    """Per "{day}#{segment key}", as the report reads them (summed over combinations)."""
    return counters(
        deployment.client("dynamodb"), deployment.physical_id("AggregatesTable"), series
    )


def test_messages_and_the_first_answer_are_counted_once(deployment: Deployment) -> None:
    # Given a post-purchase invitation: the email invitation, then the SMS reminder, and the
    # reminder's invocation retried after it was sent
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    _rung(send, invitation, 1)
    assert _rung(send, invitation, 1, token="retry")["outcome"] == "repeated"
    # When the customer answers on the page, then changes the answer
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    token = invitation["link_token"]["S"]
    with Client(collect.app) as client:
        assert post_form(client, f"/s/{token}", "score=4").status_code == 200
        assert post_form(client, f"/s/{token}", "score=8").status_code == 200
    # Then: one invitation reached, one message per channel, on every segment key
    sent = _counters(deployment, "post-purchase#sent")
    expected_sent = {"invitations": 1, "email_messages": 1, "sms_messages": 1,
                     "email_invitations": 1, "sms_invitations": 1}  # fmt: skip
    assert sent["2026-11-16#all"] == expected_sent
    assert sent["2026-11-16#businessArea=webshop"] == expected_sent
    # and one response, after a reminder, credited to the SMS (the last message it got)
    responses = _counters(deployment, "post-purchase#responses")
    assert responses["2026-11-16#all"] == {"n": 1, "via_sms": 1, "after_reminder": 1}
    # and the response says so too (the lake's "after which reminder"), kept by the change
    assert _ladder_place(deployment, invitation) == ("sms", "1", 2)


def _ladder_place(deployment: Deployment, invitation: dict) -> tuple[str, str, int]:
    """(answered_via, after_step, revision) of the invitation's stored response."""
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("ResponsesTable"),
        Key={"invitation_id": invitation["invitation_id"]},
    )["Item"]
    return item["answered_via"]["S"], item["after_step"]["N"], int(item["revision"]["N"])


def test_an_answer_before_any_reminder_is_credited_to_the_invitation(
    deployment: Deployment,
) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        assert (
            post_form(client, f"/s/{invitation['link_token']['S']}", "score=10").status_code == 200
        )
    responses = _counters(deployment, "post-purchase#responses")
    assert responses["2026-11-16#all"] == {"n": 1, "via_email": 1}
    assert _ladder_place(deployment, invitation) == ("email", "0", 1)


def _escalation_counts(deployment: Deployment) -> dict[str, int]:
    return _counters(deployment, "post-purchase#escalations")["2026-11-16#all"]


def test_tasks_and_their_follow_up_are_counted_and_moved_exactly(deployment: Deployment) -> None:
    # Given a callback task created on Monday (48 h SLA), its event delivered twice
    _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": TASK})
        escalate.lambda_handler(_event({"nps": 3}), lambda_context())
        escalate.lambda_handler(_event({"nps": 3}), lambda_context())  # a duplicate event
    assert _escalation_counts(deployment) == {"created": 1}
    follow = deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON)
    # When the task is re-queued before anyone took it: its DISCONNECTED arrives before the
    # new contact's first event, then the new contact is taken after 4 h and closed after 49 h
    events = [
        event("DISCONNECTED", 1),
        event("INITIATED", 1, "requeued", previous=TASK),
        event("CONNECTED_TO_AGENT", 4, "requeued", previous=TASK),
        event("DISCONNECTED", 49, "requeued", previous=TASK, agent_at=4),
    ]
    outcomes = []
    for raw in events:
        follow.follow_up_handler(raw, lambda_context())
        outcomes.append(_escalation_counts(deployment))
    # Then the counts followed the record: not reached, open again (the DISCONNECTED was the
    # re-queue's), reached after 4 h, completed late
    assert outcomes == [
        {"created": 1, "done": 1, "not_reached": 1, "sla_missed": 1},
        {"created": 1},
        {"created": 1, "reached": 1, "to_agent_seconds": 4 * 3600},
        {"created": 1, "done": 1, "completed": 1, "sla_missed": 1, "reached": 1,
         "to_agent_seconds": 4 * 3600},
    ]  # fmt: skip
    # and every event delivered again, in another order, moves nothing
    for raw in reversed(events):
        follow.follow_up_handler(raw, lambda_context())
    assert _escalation_counts(deployment) == outcomes[-1]
    # on every segment key of the task, too
    webshop = _counters(deployment, "post-purchase#escalations")["2026-11-16#businessArea=webshop"]
    assert webshop == outcomes[-1]
