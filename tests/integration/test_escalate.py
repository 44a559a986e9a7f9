"""Callback tasks against moto, with Amazon Connect stubbed (botocore Stubber checks every
request against botocore's Connect model). Their follow-up: test_follow_up.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.conftest import Deployment, example_event
from tests.integration.helpers import AwsCalls, BusRecorder, lambda_context

pytestmark = pytest.mark.integration

INVITATION = "5d41402abc4b2a76b9719d911017c592"
INSTANCE = "00000000-0000-4000-8000-000000000001"
FLOW = "00000000-0000-4000-8000-000000000002"
SATURDAY_NOON = "2026-11-21T10:00:00+00:00|0|0"  # 12:00 in Helsinki: outside business hours
MONDAY_NOON = "2026-11-16T10:00:00+00:00|0|0"
CRM = "https://crm.example.com/customers/{customerId}?survey={surveyId}"


def _event(scores: dict[str, int], survey: str = "post-purchase", **detail: Any) -> dict:
    event = example_event("survey-response-received.json")
    event["detail"].update({"scores": scores, "surveyId": survey, **detail})
    return event


def _store_response(
    deployment: Deployment,
    comment: str | None,
    scores: dict[str, int] | None = None,
    survey: str = "post-purchase",
) -> None:
    """The stored answer the event reports (the escalate function reads it back)."""
    stored = scores or {"nps": 3}
    item: dict[str, Any] = {
        "invitation_id": {"S": INVITATION},
        "survey_id": {"S": survey},
        "customer_id": {"S": "cust-0001"},
        "scores": {"M": {metric: {"N": str(score)} for metric, score in stored.items()}},
        "channel": {"S": "web"},
        "bucket_day": {"S": "2026-11-16"},
        "first_answered_at": {"S": "2026-11-16T12:30:00Z"},
        "answered_at": {"S": "2026-11-16T12:30:00Z"},
        "revision": {"N": "1"},
    }
    if comment:
        item["comment"] = {"S": comment}
    deployment.client("dynamodb").put_item(
        TableName=deployment.physical_id("ResponsesTable"), Item=item
    )


def _escalation(deployment: Deployment) -> dict[str, Any]:
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("EscalationsTable"),
        Key={"invitation_id": {"S": INVITATION}},
        ConsistentRead=True,
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_the_task_request_is_exactly_what_connect_needs(deployment: Deployment) -> None:
    # Given a detractor's answer with a comment (markup included), on a Saturday, and a CRM link
    _store_response(deployment, "Paketti myöhässä <b>taas</b>")
    escalate = deployment.load(
        "EscalateFunction", LOCAL_CLOCK=SATURDAY_NOON, TASK_REFERENCE_URL=CRM
    )
    expected = {
        "InstanceId": INSTANCE,
        "ContactFlowId": FLOW,
        "Name": "Callback: NPS 3 (post-purchase)",
        "Description": (
            "NPS 3 on survey post-purchase, answered 2026-11-16T12:30:00Z by web.\n"
            "Escalated because: nps 3 <= 6.\n"
            "Business area: webshop\n"
            "Interaction channel: web\n"
            "Product: sku-1234\n"
            "Store: helsinki-kamppi\n"
            "Touchpoint: checkout\n"
            "Comment: Paketti myöhässä <b>taas</b>\n"
            f"Customer: cust-0001. Invitation: {INVITATION}."
        ),
        "Attributes": {
            "surveyId": "post-purchase",
            "invitationId": INVITATION,
            "customerId": "cust-0001",
            "metric": "nps",
            "score": "3",
            "reasons": "nps 3 <= 6",
            "businessArea": "webshop",
            "touchpoint": "checkout",
            "interactionChannel": "web",
            "productId": "sku-1234",
            "storeId": "helsinki-kamppi",
        },
        "References": {
            "Customer": {
                "Value": "https://crm.example.com/customers/cust-0001?survey=post-purchase",
                "Type": "URL",
            }
        },
        "ClientToken": f"escalation-{INVITATION}",
        # Saturday noon in Helsinki: the team's next opening, Monday 08:00 (EET = UTC+2)
        "ScheduledTime": datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
    }
    recorder = BusRecorder(deployment)
    # When the escalate function handles it
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-1"}, expected)
        result = escalate.lambda_handler(_event({"nps": 3}), lambda_context())
        stub.assert_no_pending_responses()
    # Then one task, its record with the SLA clock started, and one Survey Escalated event
    assert result == {"outcome": "created", "contact_id": "contact-1", "reasons": ["nps 3 <= 6"]}
    record = _escalation(deployment)
    assert (record["contact_id"], record["sla_hours"], record["sla"]) == ("contact-1", "48", "open")
    assert record["scheduled_for"] == "2026-11-23T06:00:00Z"
    [escalated] = [e for e in recorder.events() if e["detail-type"] == "Survey Escalated"]
    assert escalated["detail"]["reason"] == "nps 3 <= 6"


def test_a_retried_event_never_makes_a_second_task(deployment: Deployment) -> None:
    # Given a detractor's answer; Connect throttles the first attempt, and after the task is
    # created the event bus fails once (so the whole event is retried after Connect succeeded)
    _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    event = _event({"nps": 2})
    recorder = BusRecorder(deployment)
    puts = AwsCalls(escalate.PORTS.bus._events, "PutEvents")
    puts.fail_next("InternalException", 500)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_client_error("start_task_contact", "ThrottlingException", http_status_code=429)
        stub.add_response("start_task_contact", {"ContactId": "contact-7"})
        # When Lambda runs the event three times (its two retries)
        with pytest.raises(Exception, match="ThrottlingException"):
            escalate.lambda_handler(event, lambda_context())
        with pytest.raises(Exception):
            escalate.lambda_handler(event, lambda_context())
        last = escalate.lambda_handler(event, lambda_context())
        stub.assert_no_pending_responses()  # exactly two Connect calls, no third
    # Then one task: the third run found it recorded, and announced it, once
    assert last["outcome"] == "already-created" and last["contact_id"] == "contact-7"
    assert _escalation(deployment)["contact_id"] == "contact-7"
    escalated = [e for e in recorder.events() if e["detail-type"] == "Survey Escalated"]
    assert [e["detail"]["contactId"] for e in escalated] == ["contact-7"]
    # and a fourth delivery (a duplicate event) announces nothing more
    assert escalate.lambda_handler(event, lambda_context())["outcome"] == "already-created"
    assert [e for e in recorder.events() if e["detail-type"] == "Survey Escalated"] == []


def test_both_connect_attempts_carry_the_same_client_token(deployment: Deployment) -> None:
    # Given Connect accepts the task but the function dies before recording it
    _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    calls = AwsCalls(escalate.PORTS.contact_center._connect, "StartTaskContact")
    tokens = []
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        for _ in range(2):
            stub.add_response("start_task_contact", {"ContactId": "contact-9"})
        escalations = escalate.PORTS.escalations
        escalations.record_task = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))
        try:
            with pytest.raises(RuntimeError):
                escalate.lambda_handler(_event({"nps": 0}), lambda_context())
        finally:
            del escalations.record_task  # the class's own again
        # When the retry runs
        escalate.lambda_handler(_event({"nps": 0}), lambda_context())
    tokens = [request["ClientToken"] for request in calls.requests]
    # Then Connect saw the same token twice: it returns the same contact, not a new task
    assert tokens == [f"escalation-{INVITATION}"] * 2
    assert _escalation(deployment)["contact_id"] == "contact-9"


@pytest.mark.parametrize(
    ("scores", "survey", "comment", "escalates"),
    [
        ({"nps": 7}, "post-purchase", None, False),
        ({"nps": 9}, "post-purchase", "Teen reklamaation huomenna", True),
        ({"nps": 9}, "post-purchase", "Kiitos", False),
        ({"csat": 3, "ces": 3}, "service-contact", None, True),  # CES 3 on the 1-7 scale
        ({"csat": 3, "ces": 4}, "service-contact", None, False),
    ],
)
def test_each_survey_applies_its_own_rule(
    deployment: Deployment, scores: dict, survey: str, comment: str | None, escalates: bool
) -> None:
    _store_response(deployment, comment, scores, survey)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        if escalates:
            stub.add_response("start_task_contact", {"ContactId": "contact-2"})
        result = escalate.lambda_handler(_event(scores, survey), lambda_context())
        stub.assert_no_pending_responses()
    assert (result["outcome"] == "created") is escalates


def test_the_team_topic_hears_of_the_task_without_personal_data(deployment: Deployment) -> None:
    topic = deployment.client("sns").create_topic(Name="team")["TopicArn"]
    deployment.with_parameters(EscalationTopicArn=topic)  # the role may publish to it
    _store_response(deployment, "Soittakaa numeroon 0401234567")
    escalate = deployment.load(
        "EscalateFunction", LOCAL_CLOCK=MONDAY_NOON, ESCALATION_TOPIC_ARN=topic
    )
    published = AwsCalls(escalate.PORTS.notifier._sns, "Publish")
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-3"})
        escalate.lambda_handler(_event({"nps": 1}), lambda_context())
    [message] = published.requests
    assert message["TopicArn"] == topic
    assert "NPS 1" in message["Message"] and "contact-3" in message["Message"]
    for personal in ("0401234567", "cust-0001", "Soittakaa"):
        assert personal not in json.dumps(message)


def _revise_response(deployment: Deployment, revision: int, score: int, comment: str) -> None:
    """The customer changes the stored answer (a new revision, as collect writes it)."""
    deployment.client("dynamodb").update_item(
        TableName=deployment.physical_id("ResponsesTable"),
        Key={"invitation_id": {"S": INVITATION}},
        UpdateExpression="SET revision = :r, scores = :s, #c = :c, answered_at = :t",
        ExpressionAttributeNames={"#c": "comment"},
        ExpressionAttributeValues={
            ":r": {"N": str(revision)},
            ":s": {"M": {"nps": {"N": str(score)}}},
            ":c": {"S": comment},
            ":t": {"S": "2026-11-16T12:31:10Z"},
        },
    )


def test_a_comment_written_after_the_tap_reaches_the_agent_on_the_task(
    deployment: Deployment,
) -> None:
    # Given a detractor who tapped 3 (revision 1, no comment) and got a callback task
    _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-9"})
        created = escalate.lambda_handler(_event({"nps": 3}, revision=1), lambda_context())
    assert created["outcome"] == "created"
    assert _escalation(deployment)["task_revision"] == "1"
    # When the customer then writes a comment and lowers the score (revision 2)
    _revise_response(deployment, 2, 2, "Nobody called back about my broken order")
    expected = {
        "InstanceId": INSTANCE,
        "ContactId": "contact-9",
        "Name": "Callback: NPS 2 (post-purchase)",
        "Description": (
            "NPS 2 on survey post-purchase, answered 2026-11-16T12:31:10Z by web.\n"
            "Escalated because: nps 2 <= 6.\n"
            "Business area: webshop\n"
            "Interaction channel: web\n"
            "Product: sku-1234\n"
            "Store: helsinki-kamppi\n"
            "Touchpoint: checkout\n"
            "Comment: Nobody called back about my broken order\n"
            f"Customer: cust-0001. Invitation: {INVITATION}."
        ),
    }
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("update_contact", {}, expected)
        updated = escalate.lambda_handler(_event({"nps": 2}, revision=2), lambda_context())
        stub.assert_no_pending_responses()
    # Then the same task now carries the comment and the new score; no second task
    assert updated == {"outcome": "updated", "contact_id": "contact-9", "reasons": ["nps 2 <= 6"]}
    assert _escalation(deployment)["task_revision"] == "2"
    # and the same event again (a redelivery), or revision 1's event arriving late, changes
    # nothing more: the Stubber would fail on any Connect call
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        again = escalate.lambda_handler(_event({"nps": 2}, revision=2), lambda_context())
        late = escalate.lambda_handler(_event({"nps": 3}, revision=1), lambda_context())
    assert again["outcome"] == late["outcome"] == "already-created"


def test_a_task_made_after_the_comment_shows_it_and_is_not_updated(
    deployment: Deployment,
) -> None:
    # Given the customer tapped 3 and wrote a comment before revision 1's event was handled
    _store_response(deployment, None)
    _revise_response(deployment, 2, 3, "Late again")
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    # When revision 1's event, then revision 2's, reach the escalate function
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-5"})
        first = escalate.lambda_handler(_event({"nps": 3}, revision=1), lambda_context())
        second = escalate.lambda_handler(_event({"nps": 3}, revision=2), lambda_context())
        stub.assert_no_pending_responses()  # one StartTaskContact, no UpdateContact
    # Then the task was made from the answer as stored (with the comment) and left alone
    assert (first["outcome"], second["outcome"]) == ("created", "already-created")
    assert _escalation(deployment)["task_revision"] == "2"
