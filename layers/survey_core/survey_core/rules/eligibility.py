"""Who may get a survey, on which channels and when: pure rules, no I/O, fixed inputs.

The trigger gathers the facts (the survey, the customer as stored, the event's time, the
clock) and gets back a Plan: either suppressed with a reason code, or the channel and exact
moment of every message of the ladder (the invitation, then each reminder) and the expiry.
Reason codes are stable strings: they are stored on the invitation, counted in metrics and
documented in docs/catalogue.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct

from ..catalogue import Rung, Survey, Window
from .e164 import E164

# Suppression reasons: no invitation is sent.
NOT_SAMPLED = "not-sampled"
OPTED_OUT = "opted-out"
BOUNCED = "bounced"
NO_CONTACT_POINT = "no-contact-point"
INVALID_CONTACT_POINT = "invalid-contact-point"
FATIGUE_LIMIT = "fatigue-limit"
# Why a scheduled invitation goes later than at once (the first that applies).
SEND_DELAY = "send-delay"
FATIGUE_DEFERRED = "fatigue-deferred"
QUIET_HOURS = "quiet-hours"
REASONS = (
    NOT_SAMPLED,
    OPTED_OUT,
    BOUNCED,
    NO_CONTACT_POINT,
    INVALID_CONTACT_POINT,
    FATIGUE_LIMIT,
    SEND_DELAY,
    FATIGUE_DEFERRED,
    QUIET_HOURS,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


def normalize_email(raw: str | None) -> str | None:
    """A usable address, or None. Domains are case-insensitive; the local part is kept."""
    if not raw:
        return None
    candidate = raw.strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        return None
    local, _, domain = candidate.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(raw: str | None) -> str | None:
    """An E.164 number (+358401234567), or None. Spaces, dashes, dots and brackets are dropped."""
    if not raw:
        return None
    candidate = _PHONE_SEPARATORS.sub("", raw.strip())
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    return candidate if E164.match(candidate) else None


def known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_or_default(name: str | None, default: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(name) if name and known_time_zone(name) else default


# Why an address is on the suppression list (domain/suppressions): set by the customer or by the
# mail system, never by a product system's event.
UNSUBSCRIBED = "unsubscribed"  # the email's unsubscribe link or one-click header
STOP_REPLY = "stop-reply"  # an SMS reply STOP
COMPLAINED = "complained"  # the recipient marked a survey email as spam
# BOUNCED (above): the receiving mail server refused the address for good.
SUPPRESSION_REASONS = (UNSUBSCRIBED, STOP_REPLY, COMPLAINED, BOUNCED)


class ChannelState(Struct, frozen=True):
    """What is known about one channel of a customer."""

    address: str | None  # a valid, normalized contact point
    given_but_invalid: bool = False
    consent: bool = True
    suppressed: str | None = None  # a SUPPRESSION_REASONS value when the address is suppressed

    @property
    def problem(self) -> str | None:
        if not self.consent:
            return OPTED_OUT
        if self.address is None:
            return INVALID_CONTACT_POINT if self.given_but_invalid else NO_CONTACT_POINT
        if self.suppressed == BOUNCED:
            return BOUNCED
        if self.suppressed is not None:
            return OPTED_OUT
        return None


class CustomerFacts(Struct, frozen=True):
    customer_id: str
    email: ChannelState
    sms: ChannelState
    time_zone: str | None
    last_contact_at: datetime | None  # the latest survey contact, planned ones included

    def channel(self, name: str) -> ChannelState:
        return self.email if name == "email" else self.sms


class PlannedRung(Struct, frozen=True):
    """One message of the channel ladder: which channel, and when it is due."""

    channel: str
    at: datetime


class Plan(Struct, frozen=True):
    """The decision for one survey and one customer."""

    reason: str | None  # suppression reason, or why the send is later than now
    rungs: tuple[PlannedRung, ...] = ()  # the invitation, then each reminder
    expires_at: datetime | None = None

    @property
    def suppressed(self) -> bool:
        return not self.rungs

    @property
    def send_at(self) -> datetime | None:
        return self.rungs[0].at if self.rungs else None

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(rung.channel for rung in self.rungs)

    @property
    def last_contact_at(self) -> datetime | None:
        """The last planned message: what the fatigue rule counts for this survey."""
        return self.rungs[-1].at if self.rungs else None


def sampled(customer_id: str, survey_id: str, rate: float) -> bool:
    """Deterministic: the same customer and survey always get the same answer, so retries and
    duplicate events agree; different surveys sample independently."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{survey_id}\x1f{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def outside_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: Window) -> datetime:
    """moment if it is outside the quiet window in zone's local time, else when the window ends.

    Wall-clock based, so correct across daylight-saving changes: a window that ends at a local
    time skipped by the spring change opens at the change; on the autumn change it opens at the
    first of the two repeated times.
    """
    local = moment.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return moment
    day = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    opening_wall = datetime.combine(day, quiet.end)
    opening = opening_wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if opening.astimezone(zone).replace(tzinfo=None) != opening_wall:
        # A skipped wall time (spring forward): open at the first instant after the gap.
        earliest = opening_wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        opening = _first_instant_at_or_after(opening_wall, zone, earliest, opening)
    return max(opening, moment)


def _first_instant_at_or_after(
    wall: datetime, zone: ZoneInfo, low: datetime, high: datetime
) -> datetime:
    """Earliest UTC instant in [low, high] whose local wall time is >= wall (minute steps:
    every real zone changes its offset on a whole minute)."""
    instant = low
    while instant < high and instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    return instant


def no_channel_reason(ladder: Sequence[str], customer: CustomerFacts) -> str:
    """Why none of the ladder's channels can reach the customer (the strongest reason)."""
    problems = {customer.channel(c).problem for c in ladder}
    for reason in (OPTED_OUT, BOUNCED, INVALID_CONTACT_POINT, NO_CONTACT_POINT):
        if reason in problems:
            return reason
    return NO_CONTACT_POINT


def plan_rungs(
    ladder: Sequence[Rung],
    customer: CustomerFacts,
    send_at: datetime,
    zone: ZoneInfo,
    quiet: Window,
) -> tuple[PlannedRung, ...]:
    """The ladder's messages the customer can receive, each at its planned time.

    The first usable rung is the invitation, sent at send_at. Every later rung is due its
    afterHours after the rung before it (moved out of quiet hours), whether or not that rung
    is usable, so a skipped channel does not move the rest of the ladder; an unusable rung
    is left out of the plan.
    """
    usable = [i for i, rung in enumerate(ladder) if customer.channel(rung.channel).problem is None]
    if not usable:
        return ()
    first = usable[0]
    planned = [PlannedRung(ladder[first].channel, send_at)]
    due = send_at
    for index in range(first + 1, len(ladder)):
        due = outside_quiet_hours(due + ladder[index].after, zone, quiet)
        if index in usable:
            planned.append(PlannedRung(ladder[index].channel, due))
    return tuple(planned)


def plan_invitation(
    *,
    survey: Survey,
    customer: CustomerFacts,
    occurred_at: datetime,
    now: datetime,
    not_before: datetime | None = None,
) -> Plan:
    """Apply the rules in order: sampling, channels, send delay, fatigue, quiet hours."""
    if not sampled(customer.customer_id, survey.id, survey.sampling):
        return Plan(NOT_SAMPLED)
    ladder_channels = [rung.channel for rung in survey.ladder]
    if all(customer.channel(c).problem is not None for c in ladder_channels):
        return Plan(no_channel_reason(ladder_channels, customer))

    reason: str | None = None
    due = now
    delayed = occurred_at + (survey.trigger.delay if survey.trigger else timedelta(0))
    for candidate in (delayed, not_before):
        if candidate is not None and candidate > due:
            due, reason = candidate, SEND_DELAY

    if customer.last_contact_at is not None:
        allowed = customer.last_contact_at + timedelta(days=survey.fatigue_days)
        if allowed > due:
            if allowed - due > timedelta(days=survey.max_deferral_days):
                return Plan(FATIGUE_LIMIT)
            due, reason = allowed, FATIGUE_DEFERRED

    zone = zone_or_default(customer.time_zone, survey.time_zone)
    send_at = outside_quiet_hours(due, zone, survey.quiet_hours)
    if send_at > due and reason is None:
        reason = QUIET_HOURS
    rungs = plan_rungs(survey.ladder, customer, send_at, zone, survey.quiet_hours)
    return Plan(reason=reason, rungs=rungs, expires_at=rungs[-1].at + survey.expires_after)
