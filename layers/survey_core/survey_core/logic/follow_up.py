"""Closing the loop: an Amazon Connect contact event of a callback task's chain becomes the
follow-up on the escalation record, and its counters move with it, exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct, field

from ..catalogue import DEFAULT_SLA_HOURS
from ..domain.escalations import Escalation, Escalations
from ..rules.follow_up import (
    NotUnderstood,
    counted,
    follow_up,
    merge,
    parse_contact_event,
)

FOLLOW_UP_ATTEMPTS = 10  # each lost race means another event of the same task went in


class ContactEventResult(Struct, frozen=True):
    # recorded | repeat (nothing new) | refused (only refused timestamps) | not_ours |
    # not_understood
    outcome: str
    invitation_id: str | None = None
    follow_up: str | None = None  # the task's outcome after this event: open | completed | ...
    sla: str | None = None  # open | met | missed
    sla_decided: bool = False  # this event decided (or changed) the SLA verdict
    refused: list[str] = field(default_factory=list)  # one reason per refused timestamp
    reason: str | None = None  # why not understood (never data from the event)


def record_contact_event(
    event: Mapping[str, Any], now: datetime, expiry_days: int, escalations: Escalations
) -> ContactEventResult:
    """Read the event, find its task (its contact, or the chain's first or previous contact),
    add what it reports to the chain and store the derived follow-up, re-read and derived
    again whenever another event of the same task got in first. Events that are not a task's,
    not ours, repeats or refused timestamps change nothing and raise nothing: a raise would
    only retry them and then dead-letter them."""
    try:
        contact_event = parse_contact_event(event)
    except NotUnderstood as error:
        return ContactEventResult("not_understood", reason=str(error))
    found = escalations.of_contact(contact_event.candidate_ids())
    if found is None or found.contact_id is None:
        return ContactEventResult("not_ours")  # another task of the same Connect instance
    invitation_id = found.invitation_id
    escalation: Escalation | None = found
    for _ in range(FOLLOW_UP_ATTEMPTS):
        if escalation is None:  # erased meanwhile: nothing of it is kept
            return ContactEventResult("not_ours")
        created = escalation.started_at
        task_contact = str(escalation.contact_id)
        merged = merge(escalation.contacts, task_contact, contact_event, created)
        result = follow_up(
            created,
            escalation.sla_hours or DEFAULT_SLA_HOURS,
            task_contact,
            merged.contacts,
            expiry_days,
        )
        counts = counted(result) if escalation.counted_day else {}
        unchanged = (
            not merged.changed
            and escalation.outcome == result.outcome
            and escalation.sla == result.sla
            and escalation.counted == counts
        )
        if unchanged:
            outcome = "refused" if merged.refused else "repeat"
            return ContactEventResult(
                outcome,
                invitation_id,
                result.outcome,
                result.sla,
                refused=merged.refused,
            )
        if escalations.save_follow_up(
            escalation, merged.contacts, result, counts, new_contact=merged.new_contact, now=now
        ):
            decided = result.sla != (escalation.sla or "open") and result.sla != "open"
            return ContactEventResult(
                "recorded",
                invitation_id,
                result.outcome,
                result.sla,
                sla_decided=decided,
                refused=merged.refused,
            )
        escalation = escalations.get(invitation_id)
    raise RuntimeError("follow-up not recorded: the escalation kept changing")
