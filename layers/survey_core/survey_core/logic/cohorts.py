"""The daily cohort job: customers who went inactive, and the recurring relationship survey.

It never decides eligibility itself: it emits the same events a product system would
(`Customer Inactive`, `Survey Requested`) and the trigger applies every rule to them. Both are
idempotent per day: a retried run emits the same business keys, which the trigger drops as
duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ..catalogue import Catalogue, Recurring, Survey
from ..clock import iso
from ..dal import store
from ..dal.gateways import EventBus

SOURCE = "customer-feedback.cohorts"


@dataclass
class CohortSummary:
    inactive: dict[int, int] = field(default_factory=dict)  # inactivity days -> events
    requested: dict[str, int] = field(default_factory=dict)  # survey id -> events


def run_daily(
    scheduled: datetime, catalogue: Catalogue, bus: EventBus, retention_days: int
) -> CohortSummary:
    summary = CohortSummary()
    today = scheduled.astimezone(UTC).date()  # activity and cohort days are UTC days
    for days in catalogue.inactivity_days:
        summary.inactive[days] = emit_inactive(today, days, bus)
    for survey in catalogue.surveys:
        if survey.recurring is not None:
            summary.requested[survey.id] = request_recurring(
                survey, survey.recurring, scheduled, retention_days, bus
            )
    return summary


def emit_inactive(today: date, days: int, bus: EventBus) -> int:
    """Customers whose last activity was exactly `days` ago: one indexed query, no scan."""
    day = (today - timedelta(days=days)).isoformat()
    events = [
        (
            "Customer Inactive",
            {
                "version": "1",
                "customer": {"id": customer.customer_id},
                "inactiveSince": customer.last_activity_at,
            },
        )
        for customer in store.customers_active_on(day)
        if customer.last_activity_at
    ]
    bus.put_many(events)
    return len(events)


def _cohort(recurring: Recurring, today: date, retention_days: int) -> Iterator[str]:
    """Customer ids of the cohort, longest unsurveyed first, one indexed query per day."""
    for age in range(retention_days, recurring.not_surveyed_days - 1, -1):
        day = today - timedelta(days=age)
        for customer in store.customers_in_cohort_day(day.isoformat()):
            yield customer.customer_id


def spread(window_start: datetime, window_end: datetime, count: int) -> list[datetime]:
    """count send times evenly over the window, the first at its start."""
    if count <= 0:
        return []
    step = (window_end - window_start) / count
    return [window_start + step * index for index in range(count)]


def _window_on(survey: Survey, recurring: Recurring, day: date) -> tuple[datetime, datetime]:
    zone = survey.time_zone
    start = datetime.combine(day, recurring.window.start, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, recurring.window.end, tzinfo=zone).astimezone(UTC)
    return start, end


def request_id(survey_id: str, day: date, customer_id: str) -> str:
    digest = hashlib.sha256(customer_id.encode()).hexdigest()[:20]
    return f"recurring:{survey_id}:{day.isoformat()}:{digest}"


def request_recurring(
    survey: Survey,
    recurring: Recurring,
    scheduled: datetime,
    retention_days: int,
    bus: EventBus,
) -> int:
    """Up to the daily cap of the cohort, their sends spread over today's window."""
    today = scheduled.astimezone(UTC).date()
    picked: list[str] = []
    for customer_id in _cohort(recurring, today, retention_days):
        picked.append(customer_id)
        if len(picked) >= recurring.daily_cap:
            break
    local_day = scheduled.astimezone(survey.time_zone).date()
    start, end = _window_on(survey, recurring, local_day)
    events = [
        (
            "Survey Requested",
            {
                "version": "1",
                "surveyId": survey.id,
                "requestId": request_id(survey.id, local_day, customer_id),
                "customer": {"id": customer_id},
                "notBefore": iso(send_at),
            },
        )
        for customer_id, send_at in zip(picked, spread(start, end, len(picked)), strict=True)
    ]
    bus.put_many(events)
    # Only after the events are on the bus: a run that fails before this picks them again,
    # with the same request ids.
    for customer_id in picked:
        store.mark_picked_for_cohort(customer_id, scheduled)
    return len(events)
