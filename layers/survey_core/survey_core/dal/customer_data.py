"""One customer's personal data, for access requests (export) and erasure requests (erase).

A customer's data is the Customer item and everything reached from it: the invitations (GSI
`by_customer`, keys only), and per invitation its response and its escalation (both keyed by
the invitation id). The aggregate counters (anonymous counts) and the suppression list (hashed
addresses, which must keep holding after an erasure) are not personal data of one customer:
this module does not import their models, so it cannot touch them. docs/data.md says why.

Nothing here logs: every value it handles may be personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from msgspec import Struct
from pynamodb.attributes import MapAttribute
from pynamodb.models import Model

from .models import ContactLink, Customer, Escalation, Invitation, LifecycleWait, Response, bind

EXPORT_FORMAT = "customer-data-export/1"

# Stored, but not handed out in an export: secrets that act for the customer or the system,
# and a hash that only serves as a lookup key. The export names them in its "omitted" field.
OMITTED_FIELDS: dict[str, dict[str, str]] = {
    "invitations": {
        "link_token": "the survey link's secret: whoever holds it can answer or unsubscribe "
        "in the customer's name, so it is never handed out again",
        "task_token": "the survey workflow's internal callback secret",
        "sms_address": "a SHA-256 hash of the phone number the SMS went to (a lookup key "
        "for SMS replies); the number itself is on the customer",
        "attempts.address_key": "a SHA-256 hash of the address each message went to (the key "
        "an unsubscribe suppresses); the addresses themselves are on the customer",
    },
}

# The entities in the order an erasure deletes them: what is found through an invitation
# first, the invitations next, the customer last. An erasure that stops half way leaves
# everything it has not deleted still reachable, so running it again finishes the job.
ENTITIES = ("escalations", "responses", "invitations", "customers")

_M = TypeVar("_M", bound=Model)


class PersonalTables(Struct, frozen=True):
    """The physical names of the four tables holding one customer's personal data."""

    customers: str
    invitations: str
    responses: str
    escalations: str


def bind_personal_tables(tables: PersonalTables, region: str, host: str | None = None) -> None:
    """Point the four models at a stack's tables (models.bind_tables needs all six names; the
    operator tools know these four only). `host`: another endpoint, e.g. the local stack."""
    for model, name in (
        (Customer, tables.customers),
        (Invitation, tables.invitations),
        (LifecycleWait, tables.invitations),
        (Response, tables.responses),
        (Escalation, tables.escalations),
        (ContactLink, tables.escalations),
    ):
        bind(model, name, region, host)


class CustomerRecords(Struct, frozen=True):
    """Everything stored about one customer, as read at one moment."""

    customer_id: str
    customer: Customer | None
    invitations: list[Invitation]  # oldest first
    responses: list[Response]  # in the order of their invitations
    escalations: list[Escalation]

    @property
    def found(self) -> bool:
        """Anything stored at all (a customer item may have expired before its invitations)."""
        return self.customer is not None or bool(self.invitations)

    def counts(self) -> dict[str, int]:
        """Items per entity, in ENTITIES order: what an erasure deletes. No values."""
        return {
            "escalations": len(self.escalations),
            "responses": len(self.responses),
            "invitations": len(self.invitations),
            "customers": int(self.customer is not None),
        }

    def export(self, exported_at: datetime) -> dict[str, Any]:
        """The access-request document: every stored attribute as plain JSON (datetimes as ISO
        8601 strings), except the secrets and hashes named under "omitted"."""
        return {
            "format": EXPORT_FORMAT,
            "customer_id": self.customer_id,
            "exported_at": exported_at.isoformat(),
            "customer": _plain_item(self.customer, "customers") if self.customer else None,
            "invitations": [_plain_item(i, "invitations") for i in self.invitations],
            "responses": [_plain_item(r, "responses") for r in self.responses],
            "escalations": [_plain_item(e, "escalations") for e in self.escalations],
            "omitted": OMITTED_FIELDS,
        }


def invitation_ids_of(customer_id: str) -> list[str]:
    """The customer's invitation ids, oldest first (every page of the keys-only index)."""
    return [key.invitation_id for key in Invitation.by_customer.query(customer_id)]


def customer_records(customer_id: str) -> CustomerRecords:
    """Read everything stored about one customer (consistent reads, except the index)."""
    customer = next(iter(Customer.batch_get([customer_id], consistent_read=True)), None)
    ids = invitation_ids_of(customer_id)
    # The index is eventually consistent: a key may still name an invitation just deleted
    # (the consistent BatchGetItem leaves it out); the customer check is only a guard.
    invitations = [i for i in _by_invitation(Invitation, ids) if i.customer_id == customer_id]
    ids = [i.invitation_id for i in invitations]
    return CustomerRecords(
        customer_id=customer_id,
        customer=customer,
        invitations=invitations,
        responses=_by_invitation(Response, ids),
        escalations=_by_invitation(Escalation, ids),
    )


def erase_customer(customer_id: str) -> dict[str, int]:
    """Delete everything stored about one customer; the items deleted per entity (ENTITIES
    order). Idempotent: a second run finds nothing and returns zeros."""
    records = customer_records(customer_id)
    erased = dict.fromkeys(ENTITIES, 0)
    # A transferred task's later contacts have link items (ids only): they go with it.
    _delete(ContactLink, [link for e in records.escalations for link in ContactLink.of(e)])
    erased["escalations"] += _delete(Escalation, records.escalations)
    erased["responses"] += _delete(Response, records.responses)
    erased["invitations"] += _delete(Invitation, records.invitations)
    # An answer or an escalation written between the read above and the invitations' delete
    # would be out of reach afterwards (they are found through the invitations): sweep once.
    ids = [i.invitation_id for i in records.invitations]
    # The lifecycle's wait items beside them (a task token each, no personal data) go too.
    _delete(LifecycleWait, [LifecycleWait(LifecycleWait.key(i)) for i in ids])
    late = _by_invitation(Escalation, ids)
    _delete(ContactLink, [link for e in late for link in ContactLink.of(e)])
    erased["escalations"] += _delete(Escalation, late)
    erased["responses"] += _delete(Response, _by_invitation(Response, ids))
    if records.customer is not None:
        erased["customers"] += _delete(Customer, [records.customer])
    return erased


def _by_invitation(model: type[_M], ids: Sequence[str]) -> list[_M]:
    """The items of `model` keyed by these invitation ids, in the ids' order (BatchGetItem,
    100 keys a call, unprocessed keys retried by PynamoDB)."""
    if not ids:
        return []
    items = model.batch_get(ids, consistent_read=True)
    found = {item.attribute_values["invitation_id"]: item for item in items}
    return [found[i] for i in ids if i in found]


def _delete(model: type[_M], items: Iterable[_M]) -> int:
    """BatchWriteItem deletes, 25 a call (PynamoDB commits each full batch and retries
    unprocessed items); deleting an item already gone is no error. Returns the count."""
    count = 0
    with model.batch_write() as batch:
        for item in items:
            batch.delete(item)
            count += 1
    return count


def _plain_item(item: Model, entity: str) -> dict[str, Any]:
    omitted = OMITTED_FIELDS.get(entity, {})
    values = {name: getattr(item, name) for name in item.get_attributes() if name not in omitted}
    plain = {name: _plain(value) for name, value in values.items() if value is not None}
    for path in omitted:  # "list.field": the field of each element of a list
        outer, dot, inner = path.partition(".")
        if dot and isinstance(plain.get(outer), list):
            plain[outer] = [
                {k: v for k, v in element.items() if k != inner} for element in plain[outer]
            ]
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, MapAttribute):
        return _plain(value.as_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value
