"""Callback tasks against moto, with Amazon Connect stubbed (botocore Stubber checks every
request against botocore's Connect model), and the follow-up from contact events."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
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


def _store_response(deployment: Deployment, comment: str | None) -> None:
    item: dict[str, Any] = {
        "invitation_id": {"S": INVITATION},
        "survey_id": {"S": "post-purchase"},
        "customer_id": {"S": "cust-0001"},
        "scores": {"M": {"nps": {"N": "3"}}},
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
        store = escalate.escalate.__globals__["store"]
        original = store.record_task
        store.record_task = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))
        try:
            with pytest.raises(RuntimeError):
                escalate.lambda_handler(_event({"nps": 0}), lambda_context())
        finally:
            store.record_task = original
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
    _store_response(deployment, comment)
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


# ---------------------------------------------------------------- follow-up


def _created_task(deployment: Deployment) -> None:
    _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-5"})
        escalate.lambda_handler(_event({"nps": 3}), lambda_context())


def _contact_event(event_type: str, hours_after: float, contact: str = "contact-5") -> dict:
    at = datetime(2026, 11, 16, 10, 0, tzinfo=UTC) + timedelta(hours=hours_after)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    detail: dict[str, Any] = {
        "eventType": event_type,
        "contactId": contact,
        "channel": "TASK",
        "instanceArn": f"arn:aws:connect:eu-north-1:123456789012:instance/{INSTANCE}",
        "initiationMethod": "API",
    }
    if event_type == "CONNECTED_TO_AGENT":
        detail["agentInfo"] = {"agentArn": "arn:agent", "connectedToAgentTimestamp": stamp}
    if event_type == "DISCONNECTED":
        detail["disconnectTimestamp"] = stamp
    return {
        "version": "0",
        "id": f"{event_type}-{hours_after}",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "time": stamp,
        "detail": detail,
    }


EVENTS = [("CONNECTED_TO_AGENT", 2), ("DISCONNECTED", 30), ("COMPLETED", 30.5)]


@pytest.mark.parametrize(
    "order",
    [
        list(EVENTS),  # in order
        list(reversed(EVENTS)),  # out of order
        [EVENTS[1], EVENTS[0], EVENTS[1], EVENTS[2], EVENTS[0]],  # duplicated and shuffled
    ],
    ids=["in-order", "reversed", "duplicated"],
)
def test_contact_events_in_any_order_give_the_same_follow_up(
    deployment: Deployment, order: list[tuple[str, float]]
) -> None:
    # Given a callback task created on Monday 10:00 UTC with a 48 h SLA
    _created_task(deployment)
    follow = deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON)
    # When its contact events arrive in this order
    results = [follow.follow_up_handler(_contact_event(*e), lambda_context()) for e in order]
    # Then the record is the same whatever the order: 2 h to an agent, done in 30 h, SLA met
    record = _escalation(deployment)
    assert record["seconds_to_agent"] == str(2 * 3600)
    assert record["done_at"] == "2026-11-17T16:00:00Z"
    assert record["sla"] == "met"
    assert {r["outcome"] for r in results} == {"recorded"}


def test_a_task_done_after_its_sla_is_missed_and_foreign_tasks_are_ignored(
    deployment: Deployment,
) -> None:
    _created_task(deployment)
    follow = deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON)
    follow.follow_up_handler(_contact_event("DISCONNECTED", 49), lambda_context())
    assert _escalation(deployment)["sla"] == "missed"
    other = follow.follow_up_handler(
        _contact_event("COMPLETED", 1, "someone-else"), lambda_context()
    )
    assert other["outcome"] == "not-ours"
    ignored = follow.follow_up_handler(_contact_event("QUEUED", 1), lambda_context())
    assert ignored["outcome"] == "ignored"


def test_every_order_of_three_events_ends_the_same(deployment: Deployment) -> None:
    _created_task(deployment)
    follow = deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON)
    outcomes = set()
    for order in itertools.permutations(EVENTS):
        deployment.client("dynamodb").update_item(
            TableName=deployment.physical_id("EscalationsTable"),
            Key={"invitation_id": {"S": INVITATION}},
            UpdateExpression="REMOVE connected_at, disconnected_at, completed_at, done_at, "
            "seconds_to_agent SET sla = :open",
            ExpressionAttributeValues={":open": {"S": "open"}},
        )
        for event in order:
            follow.follow_up_handler(_contact_event(*event), lambda_context())
        record = _escalation(deployment)
        outcomes.add((record["seconds_to_agent"], record["done_at"], record["sla"]))
    assert outcomes == {(str(7200), "2026-11-17T16:00:00Z", "met")}
