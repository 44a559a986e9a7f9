"""The escalations repository on DynamoDB (domain/escalations.py): one item per callback task,
found by its contacts (by_contact_id: the task's own on the item, a later contact of its chain
on a ContactLink item) and, while open, by survey and deadline (by_open_due)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..clock import iso
from ..domain.counters import Counts
from ..domain.escalations import Escalation, OpenTask, follow_up_counts, moment
from ..rules.follow_up import MOMENTS, Contact, FollowUp
from .counters import add_counts
from .models import ContactLink
from .models import Escalation as Item
from .writes import conditional_failed, retryable_transaction, transactions, update_if

# Before the chain map, the task's own contact's moments were attributes of the item.
LEGACY_MOMENTS = ("connected_at", "disconnected_at", "completed_at")
# A chain contact on the item: moments as ISO text, like every timestamp here.
CONTACT_FIELDS = ("previous", *MOMENTS, "disconnect_reason")


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def escalation_of(item: Item) -> Escalation:
    return Escalation(
        invitation_id=str(item.invitation_id),
        survey_id=item.survey_id,
        metric=item.metric,
        score=int(item.score),
        created_at=item.created_at,
        updated_at=item.updated_at,
        reasons=[str(reason) for reason in item.reasons or []],
        segment=dict(item.segment.as_dict()) if item.segment else {},
        status=item.status,
        sla_hours=_optional_int(item.sla_hours),
        expires_at=item.expires_at,
        contact_id=item.contact_id,
        escalated_at=item.escalated_at,
        scheduled_for=item.scheduled_for,
        announced_at=item.announced_at,
        task_revision=_optional_int(item.task_revision),
        counted_day=item.counted_day,
        contacts=_contacts_of(item),
        outcome=item.outcome,
        sla=item.sla,
        reached_at=item.reached_at,
        seconds_to_agent=_optional_int(item.seconds_to_agent),
        done_at=item.done_at,
        counted=_counted_of(item),
        follow_up_revision=_optional_int(item.follow_up_revision),
        recorded_outcome=item.recorded_outcome,
        recorded_note=item.recorded_note,
        recorded_at=item.recorded_at,
        recorded_by=item.recorded_by,
        open_due_at=item.open_due_at,
    )


def _contacts_of(item: Item) -> dict[str, Contact]:
    """The chain as stored; a record from before the chain map has its task contact's moments
    as attributes of its own."""
    raw = item.contacts.as_dict() if item.contacts is not None else None
    if raw is None:
        legacy = {name: getattr(item, name) for name in LEGACY_MOMENTS}
        if item.contact_id is None or not any(legacy.values()):
            return {}
        raw = {str(item.contact_id): legacy}
    contacts = {}
    for contact_id, fields in raw.items():
        values: dict[str, Any] = {}
        for name in CONTACT_FIELDS:
            value = fields.get(name)
            if value is not None:
                values[name] = moment(str(value)) if name in MOMENTS else str(value)
        contacts[str(contact_id)] = Contact(**values)
    return contacts


def _counted_of(item: Item) -> dict[str, int]:
    """What the task has added to its counters so far; a record from before `counted` added
    `done` and its SLA outcome once it was done."""
    if item.counted is not None:
        return {str(name): int(n) for name, n in item.counted.as_dict().items()}
    if item.counted_day and item.sla in ("met", "missed"):
        return {"done": 1, f"sla_{item.sla}": 1}
    return {}


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


def _open_task(item: Item, survey_id: str) -> OpenTask:
    """An item of by_open_due (its projection: OPEN_TASK_FIELDS and the keys)."""
    due = moment(item.open_due_at)
    assert due is not None  # the index's range key
    return OpenTask(
        invitation_id=str(item.invitation_id),
        survey_id=survey_id,
        metric=str(item.metric),
        score=int(item.score),
        segment=dict(item.segment.as_dict()) if item.segment else {},
        due_at=due,
        escalated_at=item.escalated_at,
        counted_day=item.counted_day,
        contact_id=item.contact_id,
        reached_at=item.reached_at,
    )


class EscalationTable:
    def claim(self, escalation: Escalation) -> Escalation:
        item = Item(
            escalation.invitation_id,
            survey_id=escalation.survey_id,
            metric=escalation.metric,
            score=escalation.score,
            reasons=list(escalation.reasons),
            segment=dict(escalation.segment),
            status=escalation.status,
            sla_hours=escalation.sla_hours,
            created_at=escalation.created_at,
            updated_at=escalation.updated_at,
            expires_at=escalation.expires_at,
        )
        try:
            item.save(condition=Item.invitation_id.does_not_exist())
            return escalation_of(item)
        except PutError as error:
            if not conditional_failed(error):
                raise
        return escalation_of(Item.get(escalation.invitation_id, consistent_read=True))

    def record_task(
        self,
        invitation_id: str,
        contact_id: str,
        now: datetime,
        scheduled_for: datetime | None,
        counts: Counts | None = None,
        task_revision: int | None = None,
    ) -> None:
        claimed = Item.get(
            invitation_id, consistent_read=True, attributes_to_get=["survey_id", "sla_hours"]
        )
        due = now + timedelta(hours=int(claimed.sla_hours))  # the claim sets the survey's SLA
        actions: list[Action] = [
            Item.contact_id.set(contact_id),
            Item.status.set("created"),
            # The condition below makes this the first and only write of these.
            Item.escalated_at.set(iso(now)),
            Item.outcome.set("open"),
            Item.sla.set("open"),
            Item.open_survey.set(str(claimed.survey_id)),
            Item.open_due_at.set(iso(due)),
            Item.updated_at.set(iso(now)),
        ]
        if scheduled_for is not None:
            actions.append(Item.scheduled_for.set(iso(scheduled_for)))
        if task_revision is not None:
            actions.append(Item.task_revision.set(task_revision))
        if counts is not None:
            actions.append(Item.counted_day.set(counts.day))
        connection = transactions(getattr(Item.Meta, "region", None))
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.update(
                    Item(invitation_id),
                    actions=actions,
                    condition=Item.contact_id.does_not_exist(),
                )
                if counts is not None:
                    add_counts(transaction, counts)
        except TransactWriteError as error:
            if not retryable_transaction(error):
                raise
            # Already recorded by an earlier attempt: nothing to add.

    def record_task_revision(self, invitation_id: str, revision: int, now: datetime) -> bool:
        return update_if(
            Item(invitation_id),
            [Item.task_revision.set(revision), Item.updated_at.set(iso(now))],
            Item.contact_id.exists()
            & (Item.task_revision.does_not_exist() | (Item.task_revision < revision)),
        )

    def mark_announced(self, invitation_id: str, now: datetime) -> None:
        Item(invitation_id).update(actions=[Item.announced_at.set(iso(now))])

    def get(self, invitation_id: str) -> Escalation | None:
        if ContactLink.SEPARATOR in invitation_id:
            return None
        try:
            return escalation_of(Item.get(invitation_id, consistent_read=True))
        except DoesNotExist:
            return None

    def of_contact(self, contact_ids: Iterable[str]) -> Escalation | None:
        """One Query of by_contact_id per id tried, and one GetItem."""
        for contact_id in contact_ids:
            for key in Item.by_contact_id.query(contact_id, limit=1):
                found = self.get(ContactLink.escalation_key(str(key.invitation_id)))
                if found is not None:
                    return found
        return None

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
        """One transaction: the item (on its follow-up revision), the counters and the link
        of a chain contact seen for the first time. While the task is open it stays in
        by_open_due under its deadline; once it ends it leaves the index."""
        revision = escalation.follow_up_revision
        condition = Item.invitation_id.exists() & (
            Item.follow_up_revision.does_not_exist()
            if revision is None
            else Item.follow_up_revision == revision
        )
        optional: list[tuple[Any, Any]] = [
            (Item.reached_at, iso(result.reached_at) if result.reached_at else None),
            (Item.seconds_to_agent, result.seconds_to_agent),
            (Item.done_at, iso(result.done_at) if result.done_at else None),
        ]
        actions: list[Action] = [
            Item.contacts.set(_stored_contacts(contacts)),
            Item.outcome.set(result.outcome),
            Item.sla.set(result.sla),
            Item.counted.set(dict(counted)),
            Item.follow_up_revision.set((revision or 0) + 1),
            Item.updated_at.set(iso(now)),
            *(getattr(Item, name).remove() for name in LEGACY_MOMENTS),  # now in the map
        ]
        for attribute, value in optional:
            actions.append(attribute.remove() if value is None else attribute.set(value))
        if result.outcome == "open":
            actions += [
                Item.open_survey.set(escalation.survey_id),
                Item.open_due_at.set(iso(result.due_at)),
            ]
        else:
            actions += [Item.open_survey.remove(), Item.open_due_at.remove()]
        moves = follow_up_counts(escalation, counted)
        connection = transactions(getattr(Item.Meta, "region", None))
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.update(
                    Item(escalation.invitation_id), actions=actions, condition=condition
                )
                if moves is not None:
                    add_counts(transaction, moves)
                if new_contact is not None and new_contact != escalation.contact_id:
                    transaction.save(
                        ContactLink(
                            ContactLink.key(escalation.invitation_id, new_contact),
                            contact_id=new_contact,
                            expires_at=escalation.expires_at,
                        )
                    )
        except TransactWriteError as error:
            if retryable_transaction(error):
                return False
            raise
        return True

    def open_tasks(self, survey_id: str, limit: int) -> Iterator[OpenTask]:
        """One Query of by_open_due."""
        for item in Item.by_open_due.query(survey_id, limit=limit, scan_index_forward=True):
            yield _open_task(item, survey_id)

    def overdue_tasks(self, survey_id: str, since: datetime, as_of: datetime) -> Iterator[OpenTask]:
        """One Query of by_open_due, as many items as there are such tasks."""
        for item in Item.by_open_due.query(
            survey_id, Item.open_due_at.between(iso(since), iso(as_of))
        ):
            if str(item.open_due_at) < iso(as_of):
                yield _open_task(item, survey_id)

    def record_outcome(
        self, invitation_id: str, outcome: str, note: str, by: str, at: datetime
    ) -> bool:
        try:
            Item(invitation_id).update(
                actions=[
                    Item.recorded_outcome.set(outcome),
                    Item.recorded_note.set(note) if note else Item.recorded_note.remove(),
                    Item.recorded_at.set(iso(at)),
                    Item.recorded_by.set(by),
                ],
                # A ContactLink's key is no task either: it has no survey id.
                condition=Item.survey_id.exists(),
            )
        except UpdateError as error:
            if conditional_failed(error):
                return False
            raise
        return True
