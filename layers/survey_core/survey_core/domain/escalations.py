"""Escalations: the Amazon Connect callback task a low score (or a comment keyword) became, once
per response, and how the team followed it up (Connect's contact events of the task's chain)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from msgspec import Struct, field

from ..rules.follow_up import Contact, FollowUp, counter_moves
from .counters import Counts


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class Escalation(Struct, frozen=True):
    invitation_id: str
    survey_id: str
    metric: str
    score: int
    created_at: str
    updated_at: str
    reasons: list[str] = field(default_factory=list)  # "nps 3 <= 6", "comment keyword"
    segment: dict[str, Any] = field(default_factory=dict)  # for reports by team
    status: str = "requested"  # requested (claimed) -> created (the task exists)
    sla_hours: int | None = None
    expires_at: datetime | None = None
    contact_id: str | None = None  # the task's own contact
    escalated_at: str | None = None  # the task was made: the SLA clock starts
    scheduled_for: str | None = None  # when business hours open, if later
    announced_at: str | None = None  # Survey Escalated published
    task_revision: int | None = None  # the response revision the task shows
    counted_day: str | None = None  # the day its counters are under (task made)
    # The follow-up: per contact id of the task's chain, what its events reported, and what
    # follow_up derived from the whole chain (rules/follow_up.py).
    contacts: dict[str, Contact] = field(default_factory=dict)
    outcome: str | None = None  # open | completed | not_reached | expired
    sla: str | None = None  # open | met | missed
    reached_at: str | None = None
    seconds_to_agent: int | None = None
    done_at: str | None = None
    # What the task has added to its day's escalation counters besides "created": the next
    # change of the follow-up moves them by the difference.
    counted: dict[str, int] = field(default_factory=dict)
    follow_up_revision: int | None = None  # the optimistic lock of the follow-up
    # A manager's own outcome and note (the last one); by whom: the user's Cognito sub.
    recorded_outcome: str | None = None
    recorded_note: str | None = None
    recorded_at: str | None = None
    recorded_by: str | None = None
    open_due_at: str | None = None  # while open: the SLA deadline

    @property
    def started_at(self) -> datetime:
        """When the SLA clock started: the task was made (the claim, for older records)."""
        started = moment(self.escalated_at or self.created_at)
        assert started is not None
        return started

    @property
    def due_at(self) -> datetime | None:
        """The SLA deadline: stored while open, else made + SLA hours; None: no SLA."""
        if self.open_due_at:
            return moment(self.open_due_at)
        made = moment(self.escalated_at)
        if made is None or self.sla_hours is None:
            return None
        return made + timedelta(hours=self.sla_hours)


class OpenTask(Struct, frozen=True):
    """A task still open, as the list of open tasks holds it (without reading the task)."""

    invitation_id: str
    survey_id: str
    metric: str
    score: int
    segment: dict[str, Any]
    due_at: datetime  # the SLA deadline
    escalated_at: str | None = None
    counted_day: str | None = None
    contact_id: str | None = None
    reached_at: str | None = None


def task_counts(survey_id: str, day: str, segment: Mapping[str, Any]) -> Counts:
    """What a new task adds to its survey's escalation counters."""
    return Counts(f"{survey_id}#escalations", day, dict(segment), {"created": 1})


def follow_up_counts(escalation: Escalation, counted: Mapping[str, int]) -> Counts | None:
    """How the day's escalation counters move when the task's follow-up counts `counted`
    instead of what it counted so far (None: they do not move). A task made before it had a
    counted day is in no counter."""
    moves = counter_moves(escalation.counted, counted)
    if not escalation.counted_day or not moves:
        return None
    return Counts(
        f"{escalation.survey_id}#escalations",
        escalation.counted_day,
        dict(escalation.segment),
        moves,
    )


class Escalations(Protocol):
    def claim(self, escalation: Escalation) -> Escalation:
        """Store it as requested, or return the one stored already (a retried event)."""

    def record_task(
        self,
        invitation_id: str,
        contact_id: str,
        now: datetime,
        scheduled_for: datetime | None,
        counts: Counts | None = None,
        task_revision: int | None = None,
    ) -> None:
        """The claimed escalation's task exists: store its contact, open it under its SLA
        deadline (now + the claim's SLA hours) and add `counts`, once: a retry after success
        changes nothing."""

    def record_task_revision(self, invitation_id: str, revision: int, now: datetime) -> bool:
        """The task now shows this response revision; False (nothing written) when it has no
        task yet or shows this revision or a later one."""

    def mark_announced(self, invitation_id: str, now: datetime) -> None: ...

    def get(self, invitation_id: str) -> Escalation | None:
        """Read consistently; None when there is none (a chain contact's link is none)."""

    def of_contact(self, contact_ids: Iterable[str]) -> Escalation | None:
        """The escalation the first of these contact ids belongs to: the task's own contact or
        a later contact of its chain that a saved follow-up linked."""

    def save_follow_up(
        self,
        escalation: Escalation,
        contacts: Mapping[str, Contact],
        result: FollowUp,
        counted: Mapping[str, int],
        *,
        new_contact: str | None,
        now: datetime,
    ) -> bool:
        """Store the chain and what follow_up derived from it, as read in `escalation`, with
        the counters moved by follow_up_counts and `new_contact` linked, all or nothing;
        False (nothing written) when another event changed it since: read and derive again.
        The task stays among the open tasks while the result is open."""

    def open_tasks(self, survey_id: str, limit: int) -> Iterator[OpenTask]:
        """The survey's open tasks, earliest deadline first, at most `limit`."""

    def overdue_tasks(self, survey_id: str, since: datetime, as_of: datetime) -> Iterator[OpenTask]:
        """The survey's tasks still open whose deadline fell in [since, as_of)."""

    def record_outcome(
        self, invitation_id: str, outcome: str, note: str, by: str, at: datetime
    ) -> bool:
        """A manager's outcome and note (the last one wins; an empty note removes it); False
        when there is no such task."""
