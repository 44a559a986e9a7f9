"""Customers: contact points, language, time zone, consent per channel, and the moments the
fatigue rule, the inactivity job and the recurring cohorts read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple, Protocol

from msgspec import Struct, field

from ..clock import iso


def day_of(moment: datetime) -> str:
    """The UTC day a moment indexes a customer under (activity day, cohort day)."""
    return iso(moment)[:10]


class Customer(Struct, frozen=True):
    customer_id: str
    language: str
    email: str | None = None  # valid and normalized only
    phone: str | None = None  # E.164 only
    time_zone: str | None = None
    consent_email: bool = True
    consent_sms: bool = True
    first_seen_at: str | None = None
    # The latest survey contact, planned ones included: the fatigue rule reads it, and a new
    # invitation moves it in the same transaction that creates the invitation.
    last_contact_at: str | None = None
    cohort_day: str | None = None  # the day last surveyed, picked or first seen
    last_activity_at: str | None = None
    activity_day: str | None = None
    updated_at: str | None = None
    expires_at: datetime | None = None


class Sighting(Struct, frozen=True):
    """What one event says about a customer. Latest valid contact points win; what it does not
    mention (a consent, the language) is left as it was."""

    customer_id: str
    at: datetime
    expires_at: datetime  # the customer's retention restarts with each event
    default_language: str  # for a customer first seen without one
    language: str | None = None
    email: str | None = None
    phone: str | None = None
    time_zone: str | None = None
    consent: Mapping[str, bool] = field(default_factory=dict)


class LastActivity(NamedTuple):
    customer_id: str
    at: str


class Customers(Protocol):
    def get(self, customer_id: str) -> Customer | None:
        """The stored customer, read consistently; None when unknown."""

    def remember(self, sighting: Sighting) -> Customer:
        """Store what the event says and return the whole stored customer (one write)."""

    def record_activity(self, customer_id: str, at: datetime) -> bool:
        """Move the customer's latest activity (and its day) forward to `at`. False when a
        later activity is already recorded or the customer is unknown."""

    def record_contact(self, customer_id: str, at: datetime) -> bool:
        """Move the latest survey contact (and the cohort day) forward to `at`. False when a
        later contact is already recorded or planned, or the customer is unknown."""

    def last_active_on(self, day: str) -> Iterable[LastActivity]:
        """Customers whose latest activity was on this UTC day, by customer id."""

    def in_cohort_day(self, day: str) -> Iterable[str]:
        """Ids of the customers under this cohort day, in order."""
