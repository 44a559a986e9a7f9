"""The trigger's rules against the template's tables in moto: idempotency under concurrency,
fatigue across surveys, consent, activity and the daily cohort job."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import Deployment, example_event

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
FIXED_CLOCK = f"{NOW.isoformat()}|0|0"  # scale 0: the clock stands still


def _trigger(deployment: Deployment, now: datetime = NOW) -> ModuleType:
    return deployment.load("TriggerFunction", LOCAL_CLOCK=f"{now.isoformat()}|0|0")


def _decide(trigger: ModuleType, event: dict[str, Any]) -> list[Any]:
    return trigger.handle_event(event, trigger.CONFIG, trigger.CATALOGUE, trigger.PORTS)


def _invitations(deployment: Deployment) -> list[dict[str, Any]]:
    table = deployment.physical_id("InvitationsTable")
    return deployment.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]


def _executions(deployment: Deployment) -> list[dict[str, Any]]:
    sfn = deployment.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=deployment.outputs["SurveyLifecycleArn"])[
        "executions"
    ]


def _purchase(order: str = "A-1", customer: str = "cust-1", **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(example_event("purchase-completed.json"))
    event["detail"]["orderId"] = order
    event["detail"]["customer"]["id"] = customer
    event["detail"]["occurredAt"] = (NOW - timedelta(hours=3)).isoformat()
    event["detail"].update(changes)
    return event


def _service_contact(contact: str = "C-1", customer: str = "cust-1") -> dict[str, Any]:
    event = copy.deepcopy(example_event("service-contact-closed.json"))
    event["detail"]["contactId"] = contact
    event["detail"]["customer"]["id"] = customer
    event["detail"]["closedAt"] = (NOW - timedelta(hours=1)).isoformat()
    event["detail"]["resolution"] = "resolved"
    return event


def test_fifty_concurrent_deliveries_of_one_event_create_one_invitation(
    deployment: Deployment,
) -> None:
    # Given a warm trigger (its clients made, as in a running Lambda) and one purchase event
    trigger = _trigger(deployment)
    _decide(trigger, _purchase(order="warm-up", customer="cust-warm"))
    event = _purchase()
    start_together = threading.Barrier(50, timeout=120)

    def deliver(_: int) -> list[Any]:
        start_together.wait()
        return _decide(trigger, event)

    # When 50 deliveries of it are decided at the same moment (as 50 Lambda instances would)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(deliver, range(50)))
    # Then exactly one started a survey, 49 saw a duplicate, and one execution exists
    outcomes = sorted(decision.outcome for [decision] in results)
    assert outcomes.count("started") == 1
    assert outcomes.count("duplicate") == 49
    [started] = [d for [d] in results if d.outcome == "started"]
    assert {d.invitation_id for [d] in results} == {started.invitation_id}
    assert [i["invitation_id"]["S"] for i in _invitations(deployment)].count(
        started.invitation_id
    ) == 1
    names = [e["name"] for e in _executions(deployment)]
    assert names.count(started.invitation_id) == 1
