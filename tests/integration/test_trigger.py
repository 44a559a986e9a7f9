import json

import pytest

from tests.conftest import Deployment, example_event
from tests.integration.helpers import lambda_context

pytestmark = pytest.mark.integration


def _invitations(deployment: Deployment) -> list[dict]:
    table = deployment.physical_id("InvitationsTable")
    return deployment.client("dynamodb").scan(TableName=table)["Items"]


def _executions(deployment: Deployment) -> list[dict]:
    sfn = deployment.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=deployment.outputs["SurveyLifecycleArn"])[
        "executions"
    ]


def test_purchase_starts_one_lifecycle_per_invitation(deployment: Deployment) -> None:
    # Given the trigger function with the template's environment
    trigger = deployment.load("TriggerFunction")
    event = example_event("purchase-completed.json")
    # When the same purchase arrives twice (an EventBridge retry)
    first = trigger.lambda_handler(event, lambda_context())
    second = trigger.lambda_handler(event, lambda_context())
    # Then one invitation is stored with the segment, and one execution named after it runs
    assert first["decisions"][0]["outcome"] == "started"
    assert second["decisions"][0]["outcome"] == "duplicate"
    [invitation] = _invitations(deployment)
    assert invitation["status"]["S"] == "pending"
    assert (
        invitation["segment"]["M"]["businessArea"]["S"]
        == event["detail"]["segment"]["businessArea"]
    )
    [execution] = _executions(deployment)
    assert execution["name"] == invitation["invitation_id"]["S"]


def test_invalid_event_goes_to_the_rejected_queue_with_its_reason(deployment: Deployment) -> None:
    # Given an event without its customer
    trigger = deployment.load("TriggerFunction")
    event = example_event("purchase-completed.json")
    del event["detail"]["customer"]
    # When the trigger receives it
    result = trigger.lambda_handler(event, lambda_context())
    # Then no survey starts, and the event is in the dead-letter queue with the reason
    assert result["decisions"][0]["outcome"] == "rejected"
    assert _invitations(deployment) == []
    assert _executions(deployment) == []
    sqs = deployment.client("sqs")
    [message] = sqs.receive_message(QueueUrl=deployment.outputs["RejectedEventsQueueUrl"])[
        "Messages"
    ]
    body = json.loads(message["Body"])
    assert "customer" in body["reason"]
    assert body["event"]["id"] == event["id"]


def test_customer_without_contact_points_is_suppressed_with_a_reason(
    deployment: Deployment,
) -> None:
    trigger = deployment.load("TriggerFunction")
    event = example_event("purchase-completed.json")
    event["detail"]["customer"] = {"id": "cust-no-contact"}
    result = trigger.lambda_handler(event, lambda_context())
    assert result["decisions"][0]["outcome"] == "suppressed"
    [invitation] = _invitations(deployment)
    assert invitation["status"]["S"] == "suppressed"
    assert invitation["reason"]["S"] == "no-contact-point"
    assert _executions(deployment) == []
