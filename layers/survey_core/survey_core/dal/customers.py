"""The customers repository on DynamoDB (domain/customers.py): one item per customer, indexed
under the day of their latest activity and under their cohort day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from msgspec.structs import fields
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..clock import iso
from ..domain.customers import Customer, LastActivity, Sighting, day_of
from . import models
from .writes import update_if

FIELDS = tuple(field.name for field in fields(Customer))


def customer_of(item: models.Customer) -> Customer:
    # The entity's fields are the item's attributes, by name.
    return Customer(**{name: getattr(item, name) for name in FIELDS})


def _move_forward(
    customer_id: str, moment: UnicodeAttribute, day: UnicodeAttribute, at: datetime
) -> bool:
    """Set a customer's moment (and the day it indexes them under) to `at`, never back:
    late or repeated writes lose. False when a later moment is already stored."""
    item = models.Customer
    return update_if(
        item(customer_id),
        [moment.set(iso(at)), day.set(day_of(at))],
        item.customer_id.exists() & (moment.does_not_exist() | (moment < iso(at))),
    )


class CustomerTable:
    def get(self, customer_id: str) -> Customer | None:
        try:
            return customer_of(models.Customer.get(customer_id, consistent_read=True))
        except DoesNotExist:
            return None

    def remember(self, sighting: Sighting) -> Customer:
        # One UpdateItem: its ALL_NEW answer is the read the trigger needs.
        item = models.Customer
        customer = item(sighting.customer_id)
        now = sighting.at
        actions: list[Action] = [
            item.language.set(sighting.language or (item.language | sighting.default_language)),
            item.first_seen_at.set(item.first_seen_at | iso(now)),
            # A new customer joins the recurring cohort on the day they are first seen.
            item.cohort_day.set(item.cohort_day | day_of(now)),
            item.updated_at.set(iso(now)),
            item.expires_at.set(sighting.expires_at),
        ]
        if sighting.email:
            actions.append(item.email.set(sighting.email))
        if sighting.phone:
            actions.append(item.phone.set(sighting.phone))
        if sighting.time_zone:
            actions.append(item.time_zone.set(sighting.time_zone))
        if "email" in sighting.consent:
            actions.append(item.consent_email.set(sighting.consent["email"]))
        if "sms" in sighting.consent:
            actions.append(item.consent_sms.set(sighting.consent["sms"]))
        customer.update(actions=actions)
        return customer_of(customer)

    def record_activity(self, customer_id: str, at: datetime) -> bool:
        item = models.Customer
        return _move_forward(customer_id, item.last_activity_at, item.activity_day, at)

    def record_contact(self, customer_id: str, at: datetime) -> bool:
        item = models.Customer
        return _move_forward(customer_id, item.last_contact_at, item.cohort_day, at)

    def last_active_on(self, day: str) -> Iterator[LastActivity]:
        for item in models.Customer.by_activity_day.query(day):
            if item.last_activity_at:
                yield LastActivity(item.customer_id, item.last_activity_at)

    def in_cohort_day(self, day: str) -> Iterator[str]:
        for item in models.Customer.by_cohort_day.query(day):
            yield item.customer_id
