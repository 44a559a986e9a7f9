"""The invitations repository on DynamoDB (domain/invitations.py): one item per invitation
with its attempts, indexed by link token, by customer and by the SMS number's key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from msgspec.structs import asdict, fields
from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    PynamoDBException,
    TransactWriteError,
)
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..clock import iso
from ..domain.counters import Counts
from ..domain.invitations import SENDING, Attempt, ContactChanged, Invitation
from ..errors import IntentNotRecorded, NotRecorded
from . import models
from .counters import add_counts
from .customers import CustomerTable
from .writes import (
    conditional_failed,
    persisting,
    retryable_transaction,
    transactions,
    update_if,
)

Item = models.Invitation
# A Standard workflow's execution, and so its task token, lasts at most a year: the wait item
# outlives it, then DynamoDB's TTL deletes it.
WAIT_KEPT = timedelta(days=366)
FIELDS = tuple(f.name for f in fields(Invitation) if f.name not in ("segment", "attempts"))


def attempt_of(item: models.Attempt) -> Attempt:
    return Attempt(
        rung=int(item.rung),
        channel=item.channel,
        outcome=item.outcome,
        at=item.at,
        message_id=item.message_id,
        reason=item.reason,
        fallback=bool(item.fallback),
        address_key=item.address_key,
    )


def invitation_of(item: models.Invitation) -> Invitation:
    # The entity's fields are the item's attributes, by name.
    return Invitation(
        **{name: getattr(item, name) for name in FIELDS},
        segment=dict(item.segment.as_dict()) if item.segment else {},
        attempts=[attempt_of(a) for a in item.attempts or []],
    )


def _attempt_item(attempt: Attempt) -> models.Attempt:
    return models.Attempt(**asdict(attempt))


def item_of(invitation: Invitation) -> models.Invitation:
    values = {name: getattr(invitation, name) for name in FIELDS if name != "invitation_id"}
    return Item(
        invitation.invitation_id,
        **values,
        segment=dict(invitation.segment),
        attempts=[_attempt_item(a) for a in invitation.attempts],
    )


def _attempts_are(index: int) -> Condition:
    """The invitation's attempt list is `index` long: the next one appended lands at index."""
    if index == 0:
        return Item.attempts.does_not_exist() | (size(Item.attempts) == 0)
    return size(Item.attempts) == index


class InvitationTable:
    def get(self, invitation_id: str) -> Invitation | None:
        try:
            return invitation_of(Item.get(invitation_id, consistent_read=True))
        except DoesNotExist:
            return None

    def by_link_token(self, token: str) -> Invitation | None:
        for key in Item.by_link_token.query(token, limit=1):
            return self.get(key.invitation_id)
        return None

    def asked_by_sms(self, sms_address: str, limit: int = 5) -> list[Invitation]:
        keys = Item.by_sms_address.query(sms_address, scan_index_forward=False, limit=limit)
        found = (self.get(key.invitation_id) for key in keys)
        return [invitation for invitation in found if invitation is not None]

    def create(self, invitation: Invitation) -> bool:
        try:
            item_of(invitation).save(condition=Item.invitation_id.does_not_exist())
        except PutError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def schedule(
        self, invitation: Invitation, *, seen_last_contact: str | None, new_last_contact: str
    ) -> bool:
        customer = models.Customer
        seen: Condition = customer.last_contact_at.does_not_exist()
        if seen_last_contact is not None:
            seen = customer.last_contact_at == seen_last_contact
        connection = transactions(getattr(Item.Meta, "region", None))
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.save(item_of(invitation), condition=Item.invitation_id.does_not_exist())
                transaction.update(
                    customer(invitation.customer_id),
                    actions=[
                        customer.last_contact_at.set(new_last_contact),
                        customer.cohort_day.set(new_last_contact[:10]),
                    ],
                    condition=customer.customer_id.exists() & seen,
                )
        except TransactWriteError as error:
            reasons = getattr(error, "cancellation_reasons", None) or []
            codes = [getattr(r, "code", None) if r is not None else None for r in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            if retryable_transaction(error):
                raise ContactChanged(invitation.customer_id) from None
            raise
        return True

    def claim_help_reply(self, invitation_id: str, now: datetime) -> bool:
        return update_if(
            Item(invitation_id),
            [Item.help_replied_at.set(iso(now))],
            Item.invitation_id.exists() & Item.help_replied_at.does_not_exist(),
        )

    def store_task_token(self, invitation_id: str, task_token: str, now: datetime) -> bool:
        # Written first, read second: an answer committed after the read finds this token
        # (its outbox reads it after the answer), one committed before it is seen here, and
        # the caller ends the wait (logic/send.py). Transient errors are retried here: the
        # rung's own retries cover Lambda, not the table.
        wait = models.LifecycleWait
        actions: list[Action] = [
            wait.task_token.set(task_token),
            wait.updated_at.set(iso(now)),
            wait.expires_at.set(now + WAIT_KEPT),
        ]
        persisting(lambda: wait(wait.key(invitation_id)).update(actions=actions))
        current = persisting(lambda: self.get(invitation_id))
        return current is not None and current.status in ("pending", "sent")

    def task_token(self, invitation_id: str) -> str | None:
        wait = models.LifecycleWait
        try:
            return str(wait.get(wait.key(invitation_id), consistent_read=True).task_token)
        except DoesNotExist:
            pass
        try:  # a survey whose rung stored its token on the invitation, as versions before did
            stored = Item.get(invitation_id, consistent_read=True, attributes_to_get=["task_token"])
        except DoesNotExist:
            return None
        return stored.task_token

    def expire(self, invitation_id: str, now: datetime, *, from_statuses: Iterable[str]) -> bool:
        statuses = list(from_statuses)
        return persisting(
            lambda: update_if(
                Item(invitation_id),
                [Item.status.set("expired"), Item.updated_at.set(iso(now))],
                Item.invitation_id.exists() & Item.status.is_in(*statuses),
            )
        )

    def record_attempt(self, invitation_id: str, attempt: Attempt, now: datetime) -> None:
        Item(invitation_id).update(
            actions=[
                Item.attempts.set(Item.attempts.append([_attempt_item(attempt)])),
                Item.updated_at.set(iso(now)),
            ],
            condition=Item.invitation_id.exists(),
        )

    def record_intent(
        self, invitation_id: str, attempt: Attempt, index: int, now: datetime, counts: Counts
    ) -> None:
        # The condition on the list's length makes `index` exact; the request token makes a
        # retry of the call after a commit it did not hear of a no-op, so the message is
        # counted once.
        actions: list[Action] = [
            Item.attempts.set(Item.attempts.append([_attempt_item(attempt)])),
            Item.contacted_at.set(Item.contacted_at | attempt.at),
            Item.updated_at.set(iso(now)),
        ]
        condition = Item.invitation_id.exists() & _attempts_are(index)
        connection = transactions(getattr(Item.Meta, "region", None))
        token = str(uuid.uuid4())  # one per intent: the same for every retry of this write

        def write() -> None:
            with TransactWrite(connection=connection, client_request_token=token) as tx:
                tx.update(Item(invitation_id), actions=actions, condition=condition)
                add_counts(tx, counts)

        try:
            persisting(write)
        except PynamoDBException as error:
            raise IntentNotRecorded(type(error).__name__) from error

    def record_sent(
        self,
        invitation_id: str,
        customer_id: str,
        index: int,
        message_id: str,
        now: datetime,
        sms_address: str | None = None,
    ) -> None:
        attempt = Item.attempts[index]
        actions: list[Action] = [
            attempt["outcome"].set("sent"),
            attempt["message_id"].set(message_id),
            Item.updated_at.set(iso(now)),
        ]
        if sms_address:
            actions += [Item.sms_address.set(sms_address), Item.last_sms_at.set(iso(now))]
        sent_from_pending = Item.status.is_in("pending")
        # Each write retries transient errors (persisting); an update whose condition does not
        # hold was made already (a retried write whose first try was committed).
        item = Item(invitation_id)  # status "pending" until an update returns the stored one
        try:
            persisting(lambda: update_if(item, actions, attempt["outcome"] == SENDING))
            # An invitation no longer pending never is again: after a first message its status
            # write would only fail its condition, and a failed write is billed all the same.
            if item.status == "pending":
                persisting(
                    lambda: update_if(
                        Item(invitation_id), [Item.status.set("sent")], sent_from_pending
                    )
                )
            persisting(lambda: CustomerTable().record_contact(customer_id, now))
        except PynamoDBException as error:
            raise NotRecorded(type(error).__name__) from error

    def withdraw_intent(
        self,
        invitation_id: str,
        index: int,
        counts: Counts,
        now: datetime,
        *,
        refused: str | None,
        contacted_before: bool,
    ) -> None:
        # Conditional on the attempt still being SENDING, so it happens once. When it cannot be
        # written the attempt stays SENDING, which a retried rung takes as sent (never twice).
        attempt = Item.attempts[index]
        actions: list[Action] = [Item.updated_at.set(iso(now))]
        if refused is not None:
            actions += [attempt["outcome"].set("failed"), attempt["reason"].set(refused)]
        else:
            actions.append(attempt.remove())
        if not contacted_before:
            actions.append(Item.contacted_at.remove())
        back = counts.taken_back()
        connection = transactions(getattr(Item.Meta, "region", None))
        token = str(uuid.uuid4())

        def write() -> None:
            with TransactWrite(connection=connection, client_request_token=token) as tx:
                tx.update(
                    Item(invitation_id), actions=actions, condition=attempt["outcome"] == SENDING
                )
                add_counts(tx, back)

        try:
            persisting(write)
        except TransactWriteError as error:
            reasons = getattr(error, "cancellation_reasons", None) or []
            first = reasons[0] if reasons else None
            if not (first is not None and first.code == "ConditionalCheckFailed"):
                raise NotRecorded(type(error).__name__) from error
            # Withdrawn already (a retried write whose first try was committed).
        except PynamoDBException as error:
            raise NotRecorded(type(error).__name__) from error

    def clear_contacted(self, invitation_id: str, attempts_seen: int) -> bool:
        return persisting(
            lambda: update_if(
                Item(invitation_id),
                [Item.contacted_at.remove()],
                Item.invitation_id.exists() & _attempts_are(attempts_seen),
            )
        )

    def mark_attempt(
        self, invitation_id: str, index: int, message_id: str, outcome: str, now: datetime
    ) -> bool:
        attempt = Item.attempts[index]
        return update_if(
            Item(invitation_id),
            [attempt["outcome"].set(outcome), Item.updated_at.set(iso(now))],
            attempt["message_id"] == message_id,
        )
