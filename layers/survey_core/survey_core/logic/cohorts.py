"""The daily cohort job: customers who went inactive, and the recurring relationship survey.

It never decides eligibility itself: it emits the same events a product system would
(`Customer Inactive`, `Survey Requested`) and the trigger applies every rule to them. Both are
idempotent per day: a retried run emits the same business keys, which the trigger drops as
duplicates. The recurring survey's daily cap holds per local day across runs (a quota in the
aggregates table, Counters.cohort_quota).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from msgspec import Struct, field

from ..catalogue import Catalogue, Recurring, Survey
from ..clock import iso
from ..dal.gateways import EventBus
from ..domain.counters import COHORT_BATCH
from ..domain.customers import Customers
from ..domain.repositories import Repositories
from ..errors import EventsNotPut

SOURCE = "customer-feedback.cohorts"


class CohortSummary(Struct):
    inactive: dict[int, int] = field(default_factory=dict)  # inactivity days -> events
    requested: dict[str, int] = field(default_factory=dict)  # survey id -> events


def run_daily(
    scheduled: datetime,
    catalogue: Catalogue,
    bus: EventBus,
    repos: Repositories,
    retention_days: int,
) -> CohortSummary:
    summary = CohortSummary()
    today = scheduled.astimezone(UTC).date()  # activity and cohort days are UTC days
    for days in catalogue.inactivity_days:
        summary.inactive[days] = emit_inactive(today, days, bus, repos.customers)
    for survey in catalogue.surveys:
        if survey.recurring is not None:
            summary.requested[survey.id] = request_recurring(
                survey, survey.recurring, scheduled, retention_days, bus, repos
            )
    return summary


def emit_inactive(today: date, days: int, bus: EventBus, customers: Customers) -> int:
    """Customers whose last activity was exactly `days` ago: one indexed query, no scan."""
    day = (today - timedelta(days=days)).isoformat()
    events = [
        (
            "Customer Inactive",
            {
                "version": "1",
                "customer": {"id": customer_id},
                "inactiveSince": last_activity_at,
            },
        )
        for customer_id, last_activity_at in customers.last_active_on(day)
    ]
    bus.put_many(events)
    return len(events)


def _cohort(
    recurring: Recurring, today: date, retention_days: int, customers: Customers
) -> Iterator[str]:
    """Customer ids of the cohort, longest unsurveyed first, one indexed query per day."""
    for age in range(retention_days, recurring.not_surveyed_days - 1, -1):
        day = today - timedelta(days=age)
        yield from customers.in_cohort_day(day.isoformat())


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


CLAIM_ATTEMPTS = 5  # each lost race means another run claimed part of the day meanwhile


class QuotaContended(RuntimeError):
    """Other runs kept claiming the day's quota meanwhile: the run fails and is retried."""


def request_recurring(
    survey: Survey,
    recurring: Recurring,
    scheduled: datetime,
    retention_days: int,
    bus: EventBus,
    repos: Repositories,
) -> int:
    """Up to the daily cap of the cohort, their sends spread over the day's window.

    The cap holds per day in the survey's time zone, across runs: the customers are claimed
    from the day's quota before their events are put, and what is not put is given back. A
    retried run (the same scheduled time) finishes its own claim first: it requests the
    customers it claimed and did not take out of the cohort yet (the same request ids, which
    the trigger drops if they were put already), and claims more only while the day has room.
    """
    today = scheduled.astimezone(UTC).date()  # cohort days are UTC days
    local_day = scheduled.astimezone(survey.time_zone).date()
    day, run = local_day.isoformat(), iso(scheduled)
    picked = _claim(survey, recurring, today, day, run, retention_days, repos)
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
    for first in range(0, len(events), COHORT_BATCH):
        batch = picked[first : first + COHORT_BATCH]
        try:
            bus.put_many(events[first : first + COHORT_BATCH])
        except EventsNotPut as refused:
            # Some of the batch are on the bus: they are requested; the rest go back.
            put = [c for i, c in enumerate(batch) if i not in set(refused.failed)]
            repos.counters.mark_requested(survey.id, day, run, put, scheduled)
            repos.counters.release_cohort_quota(survey.id, day, run, len(picked) - first - len(put))
            raise
        except Exception:
            repos.counters.release_cohort_quota(survey.id, day, run, len(picked) - first)
            raise
        # Only after their events are on the bus: a run that stops before this requests them
        # again when retried, with the same request ids.
        repos.counters.mark_requested(survey.id, day, run, batch, scheduled)
    return len(events)


def _claim(
    survey: Survey,
    recurring: Recurring,
    today: date,
    day: str,
    run: str,
    retention_days: int,
    repos: Repositories,
) -> list[str]:
    """The customers this run requests: its unfinished claim and what the day has room for,
    longest unsurveyed first, claimed from the day's quota."""
    quota = repos.counters.cohort_quota(survey.id, day, run)
    for _ in range(CLAIM_ATTEMPTS):
        room = quota.owned + max(0, recurring.daily_cap - quota.used)
        cohort = _cohort(recurring, today, retention_days, repos.customers)
        picked = list(islice(cohort, room))
        more = len(picked) - quota.owned
        if more < 0:  # fewer left in the cohort than this run had claimed
            repos.counters.release_cohort_quota(survey.id, day, run, -more)
        cap = recurring.daily_cap
        if more <= 0 or repos.counters.claim_cohort_quota(survey.id, day, run, more, cap):
            return picked
        quota = repos.counters.cohort_quota(survey.id, day, run)
    raise QuotaContended(survey.id)
