"""Use cases that read customers and the suppression list, run on the in-memory repositories
(tests/repositories.py; the contract suite keeps them true to DynamoDB)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.catalogue import Catalogue, load_catalogue
from survey_core.domain.customers import Sighting
from survey_core.domain.suppressions import Suppression
from survey_core.logic.channels import current_facts
from survey_core.logic.cohorts import emit_inactive, run_daily
from survey_core.rules.eligibility import BOUNCED, OPTED_OUT, STOP_REPLY

from tests.repositories import MemoryCustomers, MemorySuppressions, memory_repositories

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class RecordingBus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def put_many(
        self,
        events: Sequence[tuple[str, dict[str, Any]]],
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.events.extend(events)


def _seen(customers: MemoryCustomers, customer_id: str, **given: Any) -> None:
    _seen_at(customers, customer_id, T0, **given)


def _seen_at(customers: MemoryCustomers, customer_id: str, at: datetime, **given: Any) -> None:
    customers.remember(Sighting(customer_id, at, at + timedelta(days=400), "fi", **given))


def test_the_inactive_are_those_last_active_exactly_the_given_days_ago() -> None:
    customers = MemoryCustomers()
    for customer_id, active in (
        ("came-back", T0 - timedelta(days=90)),  # active again later: not inactive
        ("inactive-1", T0 - timedelta(days=90)),
        ("inactive-2", T0 - timedelta(days=90, hours=-5)),
        ("a-day-short", T0 - timedelta(days=89)),
        ("never-active", None),
    ):
        _seen(customers, customer_id)
        if active is not None:
            customers.record_activity(customer_id, active)
    customers.record_activity("came-back", T0 - timedelta(days=3))
    bus = RecordingBus()

    emitted = emit_inactive(date(2026, 3, 2), 90, bus, customers)  # type: ignore[arg-type]

    assert emitted == 2
    assert bus.events == [
        (
            "Customer Inactive",
            {
                "version": "1",
                "customer": {"id": "inactive-1"},
                "inactiveSince": "2025-12-02T09:30:00Z",
            },
        ),
        (
            "Customer Inactive",
            {
                "version": "1",
                "customer": {"id": "inactive-2"},
                "inactiveSince": "2025-12-02T14:30:00Z",
            },
        ),
    ]


def test_a_customer_is_checked_against_the_suppression_list_of_their_addresses_now() -> None:
    customers, suppressions = MemoryCustomers(), MemorySuppressions()
    _seen(customers, "c", email="a@example.com", phone="+358401234567")
    customer = customers.get("c")
    assert customer is not None
    facts = current_facts(customer, suppressions)
    assert (facts.email.problem, facts.sms.problem) == (None, None)

    for channel, address, reason in (
        ("email", "A@example.com", BOUNCED),
        ("sms", "+358401234567", STOP_REPLY),
    ):
        suppressions.add(Suppression.of_address(channel, address, reason=reason, source="x", at=T0))
    facts = current_facts(customer, suppressions)
    assert (facts.email.problem, facts.sms.problem) == (BOUNCED, OPTED_OUT)

    # A new address is not on the list: the customer is reachable there.
    _seen(customers, "c", email="b@example.com")
    customer = customers.get("c")
    assert customer is not None
    assert current_facts(customer, suppressions).email.problem is None


def _relationship_capped(cap: int) -> Catalogue:
    catalogue = load_catalogue()
    return replace(
        catalogue,
        surveys=tuple(
            replace(s, recurring=replace(s.recurring, daily_cap=cap)) if s.recurring else s
            for s in catalogue.surveys
        ),
    )


def test_the_recurring_survey_requests_its_daily_cap_once_a_day_across_runs() -> None:
    repos = memory_repositories()
    assert isinstance(repos.customers, MemoryCustomers)
    first_seen = T0 - timedelta(days=100)  # never surveyed since: all in the cohort
    for n in range(5):
        _seen_at(repos.customers, f"old-{n}", first_seen)
    catalogue = _relationship_capped(2)
    morning = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)  # 07:30 in Helsinki
    bus = RecordingBus()

    first = run_daily(morning, catalogue, bus, repos, retention_days=730)  # type: ignore[arg-type]
    noon = run_daily(morning + timedelta(hours=6), catalogue, bus, repos, retention_days=730)  # type: ignore[arg-type]
    tomorrow = run_daily(morning + timedelta(days=1), catalogue, bus, repos, retention_days=730)  # type: ignore[arg-type]

    assert (first.requested, noon.requested, tomorrow.requested) == (
        {"relationship": 2},
        {"relationship": 0},
        {"relationship": 2},
    )
    requested = [d["customer"]["id"] for t, d in bus.events if t == "Survey Requested"]
    assert len(set(requested)) == 4  # four different customers, none twice
    # Those requested left the cohort's old day; one is left for the day after.
    assert len(list(repos.customers.in_cohort_day(first_seen.date().isoformat()))) == 1
