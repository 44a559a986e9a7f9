"""The trigger's rules against the template's tables in moto: idempotency under concurrency,
fatigue across surveys, consent, activity and the daily cohort job."""

from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from survey_core.logic.trigger import EXPIRY_BACKSTOP_SECONDS, EXPIRY_STEP_SECONDS

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


def _sampled_customer(survey_id: str, rate: float) -> str:
    from survey_core.rules.eligibility import sampled

    return next(f"cust-{n}" for n in range(1000) if sampled(f"cust-{n}", survey_id, rate))


def _invitation(deployment: Deployment, invitation_id: str) -> dict[str, Any]:
    table = deployment.physical_id("InvitationsTable")
    item = deployment.client("dynamodb").get_item(
        TableName=table, Key={"invitation_id": {"S": invitation_id}}, ConsistentRead=True
    )
    return item["Item"]


def _customer(deployment: Deployment, customer_id: str) -> dict[str, Any]:
    table = deployment.physical_id("CustomersTable")
    item = deployment.client("dynamodb").get_item(
        TableName=table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True
    )
    return item["Item"]


def _execution_input(deployment: Deployment, name: str) -> dict[str, Any]:
    sfn = deployment.client("stepfunctions")
    arn = deployment.outputs["SurveyLifecycleArn"].replace(":stateMachine:", ":execution:")
    return json.loads(sfn.describe_execution(executionArn=f"{arn}:{name}")["input"])


def test_two_surveys_decided_at_once_for_one_customer_contact_them_once(
    deployment: Deployment,
) -> None:
    # Given a customer in the service survey's sample, a purchase and a closed service contact
    customer = _sampled_customer("service-contact", 0.5)
    trigger = _trigger(deployment)
    _decide(trigger, _purchase(order="warm-up", customer="cust-warm"))
    events = [_purchase(customer=customer), _service_contact(customer=customer)]
    start_together = threading.Barrier(2, timeout=60)

    def deliver(event: dict[str, Any]) -> Any:
        start_together.wait()
        [decision] = _decide(trigger, event)
        return decision

    # When both are decided at the same moment
    with ThreadPoolExecutor(max_workers=2) as pool:
        decisions = list(pool.map(deliver, events))
    # Then one survey is sent and the other is dropped by the fatigue rule: its earliest time
    # (after the first survey's reminder) is beyond the maximum deferral
    assert sorted(d.outcome for d in decisions) == ["started", "suppressed"]
    [started] = [d for d in decisions if d.outcome == "started"]
    [dropped] = [d for d in decisions if d.outcome == "suppressed"]
    assert dropped.reason == "fatigue-limit"
    assert _invitation(deployment, dropped.invitation_id)["reason"]["S"] == "fatigue-limit"
    last_reminder = _invitation(deployment, started.invitation_id)["rung_at"]["L"][-1]["S"]
    assert _customer(deployment, customer)["last_contact_at"]["S"] == last_reminder
    assert [e["name"] for e in _executions(deployment)].count(dropped.invitation_id) == 0


def test_a_survey_inside_the_fatigue_window_is_deferred_to_its_end(
    deployment: Deployment,
) -> None:
    # Given a purchase surveyed twelve days ago (its last reminder eight days ago)
    earlier = NOW - timedelta(days=12)
    first = _purchase(order="A-old")
    first["detail"]["occurredAt"] = (earlier - timedelta(hours=3)).isoformat()
    _decide(_trigger(deployment, earlier), first)
    # When the same customer buys again now
    [decision] = _decide(_trigger(deployment), _purchase(order="A-new"))
    # Then the survey waits until 14 days after that reminder, and the lifecycle knows when
    assert decision.outcome == "started"
    assert decision.reason == "fatigue-deferred"
    due = "2026-11-22T10:00:00Z"  # the last reminder (2026-11-08 10:00) + 14 days
    invitation = _invitation(deployment, decision.invitation_id)
    assert invitation["send_at"]["S"] == due
    assert _execution_input(deployment, decision.invitation_id)["sendAt"] == due


def test_an_opted_out_channel_is_left_out_and_the_lifecycle_waits_through_its_rung(
    deployment: Deployment,
) -> None:
    event = _purchase()
    event["detail"]["customer"]["consent"] = {"email": True, "sms": False}
    [decision] = _decide(_trigger(deployment), event)
    invitation = _invitation(deployment, decision.invitation_id)
    assert [c["S"] for c in invitation["channels"]["L"]] == ["email", "email"]
    execution = _execution_input(deployment, decision.invitation_id)
    # The invitation waits 96 h (the skipped SMS rung's 24 h and the 72 h after it) for the
    # last email, which waits 72 h until the survey closes (its expiry schedule ends that wait;
    # the timeout is a backstop a day later); then, only after a backstop, the expiry step.
    assert execution["waits"] == [
        96 * 3600,
        72 * 3600 + EXPIRY_BACKSTOP_SECONDS,
        EXPIRY_STEP_SECONDS,
    ]


def test_a_send_in_quiet_hours_waits_for_the_morning(deployment: Deployment) -> None:
    late = datetime(2026, 11, 16, 21, 30, tzinfo=UTC)  # 23:30 in Helsinki
    event = _purchase()
    event["detail"]["occurredAt"] = (late - timedelta(hours=3)).isoformat()
    [decision] = _decide(_trigger(deployment, late), event)
    assert decision.reason == "quiet-hours"
    assert _invitation(deployment, decision.invitation_id)["send_at"]["S"] == (
        "2026-11-17T06:00:00Z"  # 08:00 in Helsinki
    )


def test_an_invalid_email_is_not_stored_and_sms_carries_the_survey(
    deployment: Deployment,
) -> None:
    event = _purchase()
    event["detail"]["customer"]["email"] = "maija.example.com"
    [decision] = _decide(_trigger(deployment), event)
    assert decision.outcome == "started"
    assert [c["S"] for c in _invitation(deployment, decision.invitation_id)["channels"]["L"]] == [
        "sms"
    ]
    assert "email" not in _customer(deployment, "cust-1")


def test_a_request_for_an_unknown_survey_is_rejected_with_its_reason(
    deployment: Deployment,
) -> None:
    event = copy.deepcopy(example_event("survey-requested.json"))
    event["detail"]["surveyId"] = "no-such-survey"
    [decision] = _decide(_trigger(deployment), event)
    assert decision.outcome == "rejected"
    assert decision.reason == "detail.surveyId: no such survey in the catalogue"


# ---------------------------------------------------------------- the daily cohort job


def _activity(customer: str, at: datetime) -> dict[str, Any]:
    event = copy.deepcopy(example_event("customer-activity.json"))
    event["detail"]["customer"] = {
        "id": customer,
        "email": f"{customer}@example.com",
        "timeZone": "Europe/Helsinki",
    }
    event["detail"]["occurredAt"] = at.isoformat()
    return event


def _run_cohorts(deployment: Deployment, when: datetime) -> dict[str, Any]:
    from tests.integration.helpers import lambda_context

    deployment.deliveries.clear()
    cohorts = deployment.load("CohortsFunction", LOCAL_CLOCK=f"{when.isoformat()}|0|0")
    result: dict[str, Any] = cohorts.lambda_handler(
        {"scheduledTime": when.isoformat()}, lambda_context()
    )
    return result


def _emitted(deployment: Deployment, detail_type: str) -> list[dict[str, Any]]:
    return [e for _, e in deployment.deliveries if e["detail-type"] == detail_type]


def test_inactive_customers_get_the_win_back_survey_once_per_spell(
    deployment: Deployment,
) -> None:
    # Given one customer last active exactly 90 days ago and one 89 days ago
    for customer, days in (("cust-quiet", 90), ("cust-recent", 89)):
        when = NOW - timedelta(days=days)
        _decide(_trigger(deployment, when), _activity(customer, when))
    # When the daily job runs
    result = _run_cohorts(deployment, NOW)
    # Then only the first is announced inactive, with the start of the spell
    assert result["inactive"] == 1
    [inactive] = _emitted(deployment, "Customer Inactive")
    assert inactive["detail"]["customer"]["id"] == "cust-quiet"
    assert inactive["detail"]["inactiveSince"] == "2026-08-18T10:00:00Z"
    # And the trigger starts the win-back survey for it once, however often it is delivered
    trigger = _trigger(deployment)
    [first] = _decide(trigger, inactive)
    [again] = _decide(trigger, inactive)
    assert (first.outcome, first.survey_id) == ("started", "win-back")
    assert again.outcome == "duplicate"


def test_a_stale_inactivity_event_is_dropped_when_the_customer_came_back(
    deployment: Deployment,
) -> None:
    since = NOW - timedelta(days=90)
    _decide(_trigger(deployment, since), _activity("cust-back", since))
    _run_cohorts(deployment, NOW)
    [inactive] = _emitted(deployment, "Customer Inactive")
    # The customer logs in before the event is handled
    _decide(_trigger(deployment), _activity("cust-back", NOW - timedelta(minutes=5)))
    [decision] = _decide(_trigger(deployment), inactive)
    assert (decision.outcome, decision.reason) == ("filtered", "active-again")


def test_the_recurring_survey_requests_its_cohort_spread_over_the_window(
    deployment: Deployment,
) -> None:
    # Given three customers first seen 100 days ago and never surveyed, and one seen today
    for n in range(3):
        when = NOW - timedelta(days=100)
        _decide(_trigger(deployment, when), _activity(f"cust-old-{n}", when))
    _decide(_trigger(deployment), _activity("cust-new", NOW))
    # When the daily job runs at 07:30 Helsinki time
    morning = datetime(2026, 11, 16, 5, 30, tzinfo=UTC)
    result = _run_cohorts(deployment, morning)
    # Then the three are requested, their sends spread over 10:00-18:00 Helsinki time
    assert result["requested"] == 3
    requests = _emitted(deployment, "Survey Requested")
    assert sorted(r["detail"]["customer"]["id"] for r in requests) == [
        "cust-old-0",
        "cust-old-1",
        "cust-old-2",
    ]
    assert sorted(r["detail"]["notBefore"] for r in requests) == [
        "2026-11-16T08:00:00Z",
        "2026-11-16T10:40:00Z",
        "2026-11-16T13:20:00Z",
    ]
    # And the trigger plans each send at its time
    for request in requests:
        [decision] = _decide(_trigger(deployment, morning), request)
        assert decision.outcome == "started"
        invitation = _invitation(deployment, decision.invitation_id)
        assert invitation["send_at"]["S"] == request["detail"]["notBefore"]
    # And a second run the same day requests nobody again
    assert _run_cohorts(deployment, morning)["requested"] == 0
