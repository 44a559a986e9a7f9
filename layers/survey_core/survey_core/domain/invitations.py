"""Invitations: one survey asked of one customer, its ladder of messages (attempts) and where
it stands (pending -> sent -> answered | expired | failed; suppressed never starts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct, field

from .counters import Counts

# An attempt's outcome while its message is being handed to SES or SNS (logic/send.py).
SENDING = "sending"
# The statuses in which an invitation takes an answer (and an answer changed).
OPEN = frozenset({"pending", "sent", "answered"})
# The lifecycle's task token lives apart from its invitation, in the invitations table under
# "<invitation id>#wait": AWS's tokens are about 680 bytes, which every write of the
# invitation would otherwise carry, and be billed for. No personal data.
WAIT_KEY_SUFFIX = "#wait"


class Attempt(Struct, frozen=True):
    """One message of the ladder, as it happened."""

    rung: int
    channel: str  # email | sms | none (skipped: no usable channel)
    # sending (handed to SES / SNS, what became of it not recorded yet) -> sent | failed;
    # skipped; a sent email later turns bounced or complained (SES feedback)
    outcome: str
    at: str
    message_id: str | None = None
    reason: str | None = None
    fallback: bool = False  # sent on SMS because the rung's email bounced
    # Where it went, as its suppression key (domain/suppressions.address_key; never the
    # address): an unsubscribe suppresses the address the message reached, even after the
    # customer's address changed.
    address_key: str | None = None


class Invitation(Struct, frozen=True):
    invitation_id: str
    survey_id: str = ""
    customer_id: str = ""
    link_token: str = ""
    business_key: str = ""
    source_event_id: str = ""
    metric: str = "nps"  # the first metric: the one an email link or SMS reply answers
    metrics: list[str] | None = None
    language: str = "en"
    segment: dict[str, Any] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)  # the planned ladder: one per rung
    rung_at: list[str] = field(default_factory=list)  # when each rung is due (quiet hours on)
    status: str = "pending"
    # suppressed: why not sent (eligibility.py); pending: why later than at once, if it is
    reason: str | None = None
    send_at: str | None = None  # rung 0's time
    closes_at: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    answered_at: str | None = None
    failure_reason: str | None = None
    # When a message was first handed to SES or SNS, while any may have reached the customer:
    # the lifecycle's MarkFailed never marks such a survey failed (its link must keep working).
    contacted_at: str | None = None
    # Set when an SMS went out: the phone's suppression key and when, for SMS replies.
    sms_address: str | None = None
    last_sms_at: str | None = None
    help_replied_at: str | None = None  # the one help SMS for an unreadable reply
    expires_at: datetime | None = None


class ContactChanged(Exception):
    """The customer's last contact moved since it was read: decide again on fresh data."""


class Invitations(Protocol):
    def get(self, invitation_id: str) -> Invitation | None:
        """Read consistently; None when there is none."""

    def by_link_token(self, token: str) -> Invitation | None: ...

    def asked_by_sms(self, sms_address: str, limit: int = 5) -> list[Invitation]:
        """The invitations that last sent an SMS to this number's key, most recent first."""

    def create(self, invitation: Invitation) -> bool:
        """Store a new invitation; False when one with this id exists (a repeated event)."""

    def schedule(
        self, invitation: Invitation, *, seen_last_contact: str | None, new_last_contact: str
    ) -> bool:
        """Create the invitation and reserve the customer's contact time (their last contact
        and cohort day) in one write, so two surveys decided at once cannot both pass the
        fatigue rule. False: it exists already. ContactChanged: another survey reserved a
        contact since `seen_last_contact` was read (nothing written)."""

    def claim_help_reply(self, invitation_id: str, now: datetime) -> bool:
        """True once per invitation: the one help SMS an unreadable reply may get."""

    def store_task_token(self, invitation_id: str, task_token: str, now: datetime) -> bool:
        """Store the token of the lifecycle's wait beside the invitation (replacing the last
        rung's), then read whether the survey is still pending or sent: False when it is not
        (answered, closed or erased meanwhile; whoever closed it may have read the token
        before, so the caller ends this wait). Transient errors are retried inside."""

    def task_token(self, invitation_id: str) -> str | None:
        """The token of the lifecycle's latest wait on the invitation, read consistently; None
        before its first rung stored one."""

    def expire(self, invitation_id: str, now: datetime, *, from_statuses: Iterable[str]) -> bool:
        """Expire it; False (nothing written) when its status is not one of from_statuses.
        Transient errors are retried inside."""

    def record_attempt(self, invitation_id: str, attempt: Attempt, now: datetime) -> None:
        """Append an attempt that sent nothing (a skipped rung)."""

    def record_intent(
        self, invitation_id: str, attempt: Attempt, index: int, now: datetime, counts: Counts
    ) -> None:
        """Before a message goes: append its attempt (SENDING) at `index`, keep the first
        `contacted_at` and add `counts`, in one write, once. IntentNotRecorded when not
        written (another attempt was added meanwhile, or the write failed)."""

    def record_sent(
        self,
        invitation_id: str,
        customer_id: str,
        index: int,
        message_id: str,
        now: datetime,
        sms_address: str | None = None,
    ) -> None:
        """The attempt at `index` (SENDING) went out: sent, with its message id (and the SMS
        key and time); the invitation sent (from pending only); the customer's last contact
        moved forward. Repeats are no-ops. NotRecorded when a write still fails."""

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
        """The SENDING attempt at `index` did not go out: failed with `refused` (a refusal's
        code), or removed (None); its counts taken back; `contacted_at` removed unless
        `contacted_before`; once. NotRecorded when it cannot be written."""

    def clear_contacted(self, invitation_id: str, attempts_seen: int) -> bool:
        """Forget `contacted_at`; False (nothing written) when the invitation has other than
        `attempts_seen` attempts now. Transient errors are retried inside."""

    def mark_attempt(
        self, invitation_id: str, index: int, message_id: str, outcome: str, now: datetime
    ) -> bool:
        """Record what became of a sent message; False when the attempt at index is not it."""
