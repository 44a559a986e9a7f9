"""The trigger's use case (logic/trigger.handle_event) on the in-memory repositories: no moto.
The same paths against the template's tables are in tests/integration/test_trigger*.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from survey_core.catalogue import load_catalogue
from survey_core.config import TriggerConfig
from survey_core.domain.invitations import ContactChanged
from survey_core.domain.suppressions import Suppression
from survey_core.logic.trigger import TriggerPorts, handle_event
from survey_core.rules.eligibility import BOUNCED

from tests.conftest import example_event
from tests.repositories import MemoryInvitations, memory_repositories

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
ENVIRONMENT = {
    "AWS_REGION": "eu-north-1",
    **{
        f"{name}_TABLE": name.lower()
        for name in ("CUSTOMERS", "INVITATIONS", "RESPONSES", "AGGREGATES", "ESCALATIONS")
    },
    "SUPPRESSIONS_TABLE": "suppressions",
    "EVENT_BUS_NAME": "surveys",
    "CUSTOMER_RETENTION_DAYS": "730",
    "INVITATION_RETENTION_DAYS": "400",
    "RESPONSE_RETENTION_DAYS": "730",
    "ESCALATION_RETENTION_DAYS": "400",
    "REPORTING_TIME_ZONE": "Europe/Helsinki",
    "LOCAL_CLOCK": f"{NOW.isoformat()}|0|0",  # scale 0: the clock stands still
    "STATE_MACHINE_ARN": "arn:aws:states:eu-north-1:123456789012:stateMachine:lifecycle",
    "REJECTED_EVENTS_QUEUE_URL": "https://sqs.eu-north-1.amazonaws.com/123456789012/rejected",
}


class RecordingLifecycle:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        if name in self.started:
            return False
        self.started[name] = execution_input
        return True


class RecordingRejected:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def send(self, event: Any, reason: str) -> None:
        self.reasons.append(reason)


@pytest.fixture
def ports() -> TriggerPorts:
    return TriggerPorts(RecordingLifecycle(), RecordingRejected(), memory_repositories())  # type: ignore[arg-type]


CONFIG = TriggerConfig.from_env(ENVIRONMENT)
CATALOGUE = load_catalogue()


def _decide(event: dict[str, Any], ports: TriggerPorts) -> list[tuple[str, str | None]]:
    return [(d.outcome, d.reason) for d in handle_event(event, CONFIG, CATALOGUE, ports)]


def test_a_purchase_starts_one_survey_and_reserves_the_customers_contact(
    ports: TriggerPorts,
) -> None:
    event = example_event("purchase-completed.json")
    [decision] = handle_event(event, CONFIG, CATALOGUE, ports)
    assert (decision.outcome, decision.survey_id) == ("started", "post-purchase")
    invitation = ports.repos.invitations.get(str(decision.invitation_id))
    assert invitation is not None
    assert (invitation.status, invitation.customer_id, invitation.language) == (
        "pending",
        "cust-0001",
        "fi",
    )
    assert invitation.segment["businessArea"] == "webshop"
    lifecycle: RecordingLifecycle = ports.lifecycle  # type: ignore[assignment]
    assert list(lifecycle.started) == [decision.invitation_id]
    assert lifecycle.started[str(decision.invitation_id)]["sendAt"] == invitation.send_at
    customer = ports.repos.customers.get("cust-0001")
    assert customer is not None
    assert customer.email == "maija.meikalainen@example.com"
    # Its whole ladder is reserved for the fatigue rule: the last planned message.
    assert customer.last_contact_at == max(invitation.rung_at)

    # The same event again (EventBridge delivers at least once): the same survey, not a second.
    assert _decide(event, ports) == [("duplicate", None)]
    assert len(lifecycle.started) == 1


def test_a_bounced_address_and_no_phone_store_a_suppressed_invitation_and_start_nothing(
    ports: TriggerPorts,
) -> None:
    event = example_event("purchase-completed.json")
    del event["detail"]["customer"]["phone"]
    ports.repos.suppressions.add(
        Suppression.of_address(
            "email", "maija.meikalainen@example.com", reason=BOUNCED, source="ses", at=NOW
        )
    )
    [decision] = handle_event(event, CONFIG, CATALOGUE, ports)
    assert decision.outcome == "suppressed"
    invitation = ports.repos.invitations.get(str(decision.invitation_id))
    assert invitation is not None and invitation.status == "suppressed"
    assert ports.lifecycle.started == {}  # type: ignore[attr-defined]


def test_an_invalid_event_goes_to_the_rejected_events_queue_with_its_reason(
    ports: TriggerPorts,
) -> None:
    event = example_event("purchase-completed.json")
    del event["detail"]["customer"]["id"]
    [(outcome, reason)] = _decide(event, ports)
    assert outcome == "rejected"
    assert ports.rejected.reasons == [reason]  # type: ignore[attr-defined]
    assert ports.repos.customers.get("cust-0001") is None


def test_a_contact_reserved_meanwhile_is_read_again_and_the_survey_still_starts(
    ports: TriggerPorts, monkeypatch: pytest.MonkeyPatch
) -> None:
    invitations = ports.repos.invitations
    assert isinstance(invitations, MemoryInvitations)
    schedule, lost = invitations.schedule, []

    def lose_once(*args: Any, **kwargs: Any) -> bool:
        if not lost:
            lost.append(True)
            raise ContactChanged("cust-0001")
        return schedule(*args, **kwargs)

    monkeypatch.setattr(invitations, "schedule", lose_once)
    assert _decide(example_event("purchase-completed.json"), ports) == [("started", "send-delay")]
    assert lost == [True]


def test_activity_moves_the_customers_last_activity_forward_only(ports: TriggerPorts) -> None:
    event = example_event("customer-activity.json")
    assert _decide(event, ports) == [("activity", None)]
    older = copy.deepcopy(event)
    older["id"] = "older"
    older["detail"]["occurredAt"] = "2020-01-01T00:00:00Z"
    assert _decide(older, ports) == [("activity", "older-than-recorded")]
    customer = ports.repos.customers.get(event["detail"]["customer"]["id"])
    assert customer is not None
    assert customer.last_activity_at == event["detail"]["occurredAt"]
