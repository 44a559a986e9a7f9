"""Reads and writes of survey data, with the conditions that keep them exact under retries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..clock import iso
from ..domain.counters import Counts
from ..rules.follow_up import MOMENTS, Contact, FollowUp, counter_moves
from .counters import add_counts
from .models import (
    ContactLink,
    Escalation,
)
from .writes import (
    conditional_failed,
    retryable_transaction,
    transactions,
    update_if,
)

# ---------------------------------------------------------------- escalations


def claim_escalation(escalation: Escalation) -> Escalation:
    """Create the escalation record, or return the existing one (a retried event)."""
    try:
        escalation.save(condition=Escalation.invitation_id.does_not_exist())
        return escalation
    except PutError as error:
        if not conditional_failed(error):
            raise
    return Escalation.get(escalation.invitation_id, consistent_read=True)


def record_task(
    invitation_id: str,
    contact_id: str,
    now: datetime,
    scheduled_for: datetime | None,
    counts: Counts | None = None,
    task_revision: int | None = None,
) -> None:
    """Store the task's contact id, once (a retry finds it stored), counting the task. The
    task is open from now: it goes into by_open_due under its SLA deadline. task_revision:
    the response revision the task was made from."""
    claimed = Escalation.get(
        invitation_id, consistent_read=True, attributes_to_get=["survey_id", "sla_hours"]
    )
    due = now + timedelta(hours=int(claimed.sla_hours))  # the claim sets the survey's SLA
    actions: list[Action] = [
        Escalation.contact_id.set(contact_id),
        Escalation.status.set("created"),
        # The condition below makes this the first and only write of these.
        Escalation.escalated_at.set(iso(now)),
        Escalation.outcome.set("open"),
        Escalation.sla.set("open"),
        Escalation.open_survey.set(str(claimed.survey_id)),
        Escalation.open_due_at.set(iso(due)),
        Escalation.updated_at.set(iso(now)),
    ]
    if scheduled_for is not None:
        actions.append(Escalation.scheduled_for.set(iso(scheduled_for)))
    if task_revision is not None:
        actions.append(Escalation.task_revision.set(task_revision))
    if counts is not None:
        actions.append(Escalation.counted_day.set(counts.day))
    connection = transactions(getattr(Escalation.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.update(
                Escalation(invitation_id),
                actions=actions,
                condition=Escalation.contact_id.does_not_exist(),
            )
            if counts is not None:
                add_counts(transaction, counts)
    except TransactWriteError as error:
        if not retryable_transaction(error):
            raise
        # Already recorded by an earlier attempt: nothing to add.


def record_task_revision(invitation_id: str, revision: int, now: datetime) -> bool:
    """The task now shows this response revision; False when it already shows this one or a
    later one (nothing written)."""
    return update_if(
        Escalation(invitation_id),
        [Escalation.task_revision.set(revision), Escalation.updated_at.set(iso(now))],
        Escalation.contact_id.exists()
        & (Escalation.task_revision.does_not_exist() | (Escalation.task_revision < revision)),
    )


def mark_announced(invitation_id: str, now: datetime) -> None:
    Escalation(invitation_id).update(actions=[Escalation.announced_at.set(iso(now))])


def get_escalation(invitation_id: str) -> Escalation | None:
    try:
        return Escalation.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


def escalation_of_contact(contact_ids: Iterable[str]) -> Escalation | None:
    """The escalation the first of these contact ids belongs to: the task's own contact (on
    the escalation) or a later contact of its chain (a ContactLink). One Query per id tried,
    and one GetItem."""
    for contact_id in contact_ids:
        for key in Escalation.by_contact_id.query(contact_id, limit=1):
            found = get_escalation(ContactLink.escalation_key(str(key.invitation_id)))
            if found is not None:
                return found
    return None


LEGACY_MOMENTS = ("connected_at", "disconnected_at", "completed_at")
# A chain contact on the escalation item: moments as ISO text, like every timestamp here.
CONTACT_FIELDS = ("previous", *MOMENTS, "disconnect_reason")


def contacts_of(escalation: Escalation) -> dict[str, Contact]:
    """The chain as stored; a record from before the chain map has its task contact's moments
    as attributes of its own."""
    raw = escalation.contacts.as_dict() if escalation.contacts is not None else None
    if raw is None:
        legacy = {m: getattr(escalation, m) for m in LEGACY_MOMENTS}
        if escalation.contact_id is None or not any(legacy.values()):
            return {}
        raw = {str(escalation.contact_id): legacy}
    contacts = {}
    for contact_id, fields in raw.items():
        values: dict[str, Any] = {}
        for name in CONTACT_FIELDS:
            value = fields.get(name)
            if value is None:
                continue
            values[name] = _parsed(value) if name in MOMENTS else str(value)
        contacts[str(contact_id)] = Contact(**values)
    return contacts


def counted_of(escalation: Escalation) -> dict[str, int]:
    """What the task has added to its counters so far; a record from before `counted` added
    `done` and its SLA outcome once it was done."""
    if escalation.counted is not None:
        return {str(k): int(v) for k, v in escalation.counted.as_dict().items()}
    if escalation.counted_day and escalation.sla in ("met", "missed"):
        return {"done": 1, f"sla_{escalation.sla}": 1}
    return {}


def _parsed(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _stored_contacts(contacts: Mapping[str, Contact]) -> dict[str, dict[str, str]]:
    stored = {}
    for contact_id, contact in contacts.items():
        fields = {}
        for name in CONTACT_FIELDS:
            value = getattr(contact, name)
            if value is not None:
                fields[name] = iso(value) if isinstance(value, datetime) else str(value)
        stored[contact_id] = fields
    return stored


def save_follow_up(
    escalation: Escalation,
    contacts: Mapping[str, Contact],
    result: FollowUp,
    counted: Mapping[str, int],
    *,
    new_contact: str | None,
    now: datetime,
) -> bool:
    """Store the chain and what follow_up derived from it, as read in `escalation`; False
    (nothing written) when another event changed the record since: read and derive again.

    One transaction: the escalation (on its revision), the counters by the difference between
    `counted` and what the task had counted (so a retried or repeated event never counts
    twice), and the link of a chain contact seen for the first time. While the task is open it
    stays in by_open_due under its deadline; once it ends it leaves the index.
    """
    revision = escalation.follow_up_revision
    condition = Escalation.invitation_id.exists() & (
        Escalation.follow_up_revision.does_not_exist()
        if revision is None
        else Escalation.follow_up_revision == int(revision)
    )
    optional: list[tuple[Any, Any]] = [
        (Escalation.reached_at, iso(result.reached_at) if result.reached_at else None),
        (Escalation.seconds_to_agent, result.seconds_to_agent),
        (Escalation.done_at, iso(result.done_at) if result.done_at else None),
    ]
    actions: list[Action] = [
        Escalation.contacts.set(_stored_contacts(contacts)),
        Escalation.outcome.set(result.outcome),
        Escalation.sla.set(result.sla),
        Escalation.counted.set(dict(counted)),
        Escalation.follow_up_revision.set(int(revision or 0) + 1),
        Escalation.updated_at.set(iso(now)),
        *(getattr(Escalation, m).remove() for m in LEGACY_MOMENTS),  # now in the map
    ]
    for attribute, value in optional:
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if result.outcome == "open":
        actions += [
            Escalation.open_survey.set(str(escalation.survey_id)),
            Escalation.open_due_at.set(iso(result.due_at)),
        ]
    else:
        actions += [Escalation.open_survey.remove(), Escalation.open_due_at.remove()]
    moves = counter_moves(counted_of(escalation), counted) if escalation.counted_day else {}
    connection = transactions(getattr(Escalation.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.update(
                Escalation(escalation.invitation_id), actions=actions, condition=condition
            )
            if moves:
                counts = Counts(
                    f"{escalation.survey_id}#escalations",
                    str(escalation.counted_day),
                    escalation.segment.as_dict() if escalation.segment else {},
                    moves,
                )
                add_counts(transaction, counts)
            if new_contact is not None and new_contact != escalation.contact_id:
                transaction.save(
                    ContactLink(
                        ContactLink.key(str(escalation.invitation_id), new_contact),
                        contact_id=new_contact,
                        expires_at=escalation.expires_at,
                    )
                )
    except TransactWriteError as error:
        if retryable_transaction(error):
            return False
        raise
    return True


def open_tasks(survey_id: str, limit: int) -> Iterable[Escalation]:
    """The survey's open tasks, earliest SLA deadline first, at most `limit` (one Query of
    by_open_due, each item with OPEN_TASK_FIELDS)."""
    return Escalation.by_open_due.query(survey_id, limit=limit, scan_index_forward=True)


def record_follow_up_outcome(
    invitation_id: str, outcome: str, note: str, by: str, at: datetime
) -> bool:
    """A manager's outcome and note on the task (the last one wins); False when there is no
    such task (a ContactLink's key is no task either)."""
    try:
        Escalation(invitation_id).update(
            actions=[
                Escalation.recorded_outcome.set(outcome),
                Escalation.recorded_note.set(note) if note else Escalation.recorded_note.remove(),
                Escalation.recorded_at.set(iso(at)),
                Escalation.recorded_by.set(by),
            ],
            condition=Escalation.survey_id.exists(),
        )
    except UpdateError as error:
        if conditional_failed(error):
            return False
        raise
    return True


def overdue_open_tasks(survey_id: str, since: datetime, as_of: datetime) -> Iterable[Escalation]:
    """The survey's tasks still open whose SLA deadline fell in [since, as_of): one Query of
    by_open_due, as many items as there are such tasks (each with OPEN_TASK_FIELDS)."""
    for item in Escalation.by_open_due.query(
        survey_id, Escalation.open_due_at.between(iso(since), iso(as_of))
    ):
        if str(item.open_due_at) < iso(as_of):
            yield item
