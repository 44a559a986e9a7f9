"""In-memory repositories (the interfaces of survey_core/domain): what the unit tests give the
use cases. tests/integration/test_repository_contracts.py runs the same tests on these and on
DynamoDB (moto), so they cannot drift from what the tables do."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import datetime

from survey_core.clock import iso
from survey_core.domain.customers import Customer, LastActivity, Sighting, day_of
from survey_core.domain.repositories import Repositories
from survey_core.domain.suppressions import Suppression


class MemoryCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, Customer] = {}

    def get(self, customer_id: str) -> Customer | None:
        return self.stored.get(customer_id)

    def remember(self, sighting: Sighting) -> Customer:
        now = iso(sighting.at)
        old = self.stored.get(sighting.customer_id)
        customer = old or Customer(
            sighting.customer_id,
            language=sighting.default_language,
            first_seen_at=now,
            cohort_day=day_of(sighting.at),
        )
        given = {
            "email": sighting.email,
            "phone": sighting.phone,
            "time_zone": sighting.time_zone,
            "language": sighting.language,
        }
        customer = replace(
            customer,
            **{name: value for name, value in given.items() if value},
            **{
                f"consent_{channel}": bool(sighting.consent[channel])
                for channel in ("email", "sms")
                if channel in sighting.consent
            },
            updated_at=now,
            expires_at=sighting.expires_at.replace(microsecond=0),  # TTL: whole seconds
        )
        self.stored[customer.customer_id] = customer
        return customer

    def _move_forward(self, customer_id: str, moment: str, day: str, at: datetime) -> bool:
        customer = self.stored.get(customer_id)
        if customer is None:
            return False
        stored = getattr(customer, moment)
        if stored is not None and stored >= iso(at):
            return False
        self.stored[customer_id] = replace(customer, **{moment: iso(at), day: day_of(at)})
        return True

    def record_activity(self, customer_id: str, at: datetime) -> bool:
        return self._move_forward(customer_id, "last_activity_at", "activity_day", at)

    def record_contact(self, customer_id: str, at: datetime) -> bool:
        return self._move_forward(customer_id, "last_contact_at", "cohort_day", at)

    def last_active_on(self, day: str) -> Iterator[LastActivity]:
        for customer_id, customer in sorted(self.stored.items()):
            if customer.activity_day == day and customer.last_activity_at:
                yield LastActivity(customer_id, customer.last_activity_at)

    def in_cohort_day(self, day: str) -> Iterator[str]:
        for customer_id, customer in sorted(self.stored.items()):
            if customer.cohort_day == day:
                yield customer_id


class MemorySuppressions:
    def __init__(self) -> None:
        self.stored: dict[str, Suppression] = {}

    def add(self, suppression: Suppression) -> None:
        self.stored[suppression.key] = suppression

    def reasons(self, keys: Collection[str]) -> dict[str, str]:
        return {key: self.stored[key].reason for key in keys if key in self.stored}


def memory_repositories() -> Repositories:
    return Repositories(customers=MemoryCustomers(), suppressions=MemorySuppressions())
