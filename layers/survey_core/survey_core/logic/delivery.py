"""SES feedback on survey emails: bounces and complaints (configuration set -> EventBridge).

- A hard bounce suppresses the address for every later survey; a complaint does too (the
  customer said "spam"). A soft bounce (SES gave up for now) suppresses nothing.
- A bounce of the email the lifecycle is waiting on means the customer never got this rung:
  the rung is resent by SMS when the customer has a usable number, at once or when quiet
  hours end. With no way left to reach a customer who got nothing, the invitation fails with
  the reason instead of waiting to expire.
- A complaint means the customer got the email and did not want it: no SMS follows at once;
  the invitation's later email rungs are skipped (suppressed) and its SMS rungs go on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct

from ..catalogue import Catalogue
from ..clock import iso
from ..config import DeliveryConfig
from ..dal.gateways import Lifecycle
from ..domain.invitations import SENDING, Invitation
from ..domain.repositories import Repositories
from ..domain.suppressions import Suppression
from ..rules.eligibility import BOUNCED, COMPLAINED, outside_quiet_hours, zone_or_default
from .channels import current_facts, planned_channel
from .counting import REACHED
from .trigger import wait_ends

WAITING = frozenset({"pending", "sent"})
FALLBACK_CHANNEL = "sms"


class MalformedFeedback(ValueError):
    """An SES event without the fields this function needs (retried, then dead-lettered)."""


class FeedbackBeforeSendRecorded(RuntimeError):
    """SES reported on a message the send function has not recorded yet (a bounce can come
    within a second): the invocation fails, and Lambda's retry a minute later finds it."""


class EmailFeedback(Struct, frozen=True):
    kind: str  # bounce | complaint
    permanent: bool  # the address must not be mailed again
    message_id: str
    recipients: tuple[str, ...]
    invitation_id: str | None  # from the email's tags; None for mail that is not a survey's
    rung: int | None  # likewise
    at: datetime

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> EmailFeedback:
        try:
            detail = event["detail"]
            mail = detail["mail"]
            tags = mail.get("tags", {})
            if detail["eventType"] == "Bounce":
                bounce = detail["bounce"]
                kind, permanent = "bounce", bounce["bounceType"] == "Permanent"
                recipients = [r["emailAddress"] for r in bounce["bouncedRecipients"]]
                at = bounce["timestamp"]
            elif detail["eventType"] == "Complaint":
                complaint = detail["complaint"]
                # "not-spam": the recipient took the message out of spam; nothing to suppress.
                kind = "complaint"
                permanent = complaint.get("complaintFeedbackType") != "not-spam"
                recipients = [r["emailAddress"] for r in complaint["complainedRecipients"]]
                at = complaint["timestamp"]
            else:
                raise MalformedFeedback(f"unexpected SES event type {detail['eventType']!r}")
            invitation = tags.get("invitation") or [None]
            rung = tags.get("rung") or [None]
            return cls(
                kind=kind,
                permanent=permanent,
                message_id=str(mail["messageId"]),
                recipients=tuple(str(r) for r in recipients),
                invitation_id=invitation[0],
                rung=None if rung[0] is None else int(rung[0]),
                at=datetime.fromisoformat(str(at).replace("Z", "+00:00")),
            )
        except (KeyError, TypeError, IndexError, ValueError) as error:
            if isinstance(error, MalformedFeedback):
                raise
            raise MalformedFeedback(f"SES event lacks {error}") from None


class FeedbackResult(Struct, frozen=True):
    # fallback | failed | noted (the survey goes on) | not-survey | closed
    outcome: str
    suppressed: bool
    reason: str | None = None  # why no fallback, for "noted" (fixed codes, no personal data)
    fallback_at: str | None = None


def handle_feedback(
    feedback: EmailFeedback,
    config: DeliveryConfig,
    catalogue: Catalogue,
    lifecycle: Lifecycle,
    repos: Repositories,
) -> FeedbackResult:
    now = config.clock()
    reason = BOUNCED if feedback.kind == "bounce" else COMPLAINED
    if feedback.permanent:
        for address in feedback.recipients:
            repos.suppressions.add(
                Suppression.of_address(
                    "email",
                    address,
                    reason=reason,
                    source="ses",
                    at=feedback.at,
                    invitation_id=feedback.invitation_id,
                )
            )
    invitations = repos.invitations
    invitation = invitations.get(feedback.invitation_id) if feedback.invitation_id else None
    if invitation is None:
        return FeedbackResult("not-survey", feedback.permanent)
    index = _attempt_index(invitation, feedback.message_id)
    if index is None and invitation.status in WAITING and _not_recorded_yet(invitation, feedback):
        raise FeedbackBeforeSendRecorded(f"invitation {invitation.invitation_id}")
    if index is not None:
        outcome = "bounced" if feedback.kind == "bounce" else "complained"
        invitations.mark_attempt(invitation.invitation_id, index, feedback.message_id, outcome, now)
    waiting_on_it = index is not None and index == len(invitation.attempts) - 1
    token = (
        invitations.task_token(invitation.invitation_id) if invitation.status in WAITING else None
    )
    if not token:
        return FeedbackResult("closed", feedback.permanent)
    if feedback.kind != "bounce":
        return FeedbackResult("noted", feedback.permanent, "complaint")
    if not waiting_on_it:
        return FeedbackResult("noted", feedback.permanent, "a-later-rung-is-waiting")
    return _fall_back(invitation, index, token, feedback, now, config, catalogue, lifecycle, repos)


def _not_recorded_yet(invitation: Invitation, feedback: EmailFeedback) -> bool:
    """The rung's email is not recorded as sent: no attempt of the rung at all, or its email
    still "sending" (its message id comes with the record). One whose record failed for good
    stays so: its feedback ends in the failed-deliveries queue, the address suppressed."""
    if feedback.rung is None:
        return False
    of_rung = [a for a in invitation.attempts if int(a.rung) == feedback.rung]
    return not of_rung or any(
        a.channel == "email" and a.outcome == SENDING and not a.fallback for a in of_rung
    )


def _attempt_index(invitation: Invitation, message_id: str) -> int | None:
    return next((i for i, a in enumerate(invitation.attempts) if a.message_id == message_id), None)


def _fall_back(
    invitation: Invitation,
    index: int | None,
    token: str,
    feedback: EmailFeedback,
    now: datetime,
    config: DeliveryConfig,
    catalogue: Catalogue,
    lifecycle: Lifecycle,
    repos: Repositories,
) -> FeedbackResult:
    """The rung the lifecycle waits on bounced: resend it by SMS, or give up on a customer
    who got nothing and cannot be reached."""
    assert index is not None
    rung = int(invitation.attempts[index].rung)
    customer = repos.customers.get(invitation.customer_id)
    sms_usable = (
        customer is not None and current_facts(customer, repos.suppressions).sms.problem is None
    )
    if not sms_usable:
        if _delivered_elsewhere(invitation, index):
            return FeedbackResult("noted", feedback.permanent, "no-usable-sms")
        # Nothing reached the customer after all: the lifecycle may mark the survey failed.
        repos.invitations.clear_contacted(invitation.invitation_id, len(invitation.attempts))
        lifecycle.fail(token, "DeliveryFailed", "the email bounced and no other channel is usable")
        return FeedbackResult("failed", feedback.permanent)
    survey = catalogue.find(invitation.survey_id)
    send_at = now
    if survey is not None:
        zone = zone_or_default(customer.time_zone if customer else None, survey.time_zone)
        send_at = outside_quiet_hours(now, zone, survey.quiet_hours)
    next_due = datetime.fromisoformat(wait_ends(invitation)[rung])
    if planned_channel(invitation, rung + 1) == FALLBACK_CHANNEL and next_due <= send_at:
        # The next rung is an SMS due no later than the fallback would go: it carries the link.
        return FeedbackResult("noted", feedback.permanent, "next-rung-is-sms")
    wait = max(1, int((next_due - send_at).total_seconds()))
    cause = json.dumps({"channel": FALLBACK_CHANNEL, "at": iso(send_at), "wait": wait})
    if not lifecycle.fail(token, "EmailBounced", cause):
        return FeedbackResult("noted", feedback.permanent, "rung-wait-over")
    return FeedbackResult("fallback", feedback.permanent, fallback_at=iso(send_at))


def _delivered_elsewhere(invitation: Invitation, bounced: int) -> bool:
    """Another message of the invitation may have reached the customer."""
    return any(
        attempt.outcome in REACHED for i, attempt in enumerate(invitation.attempts) if i != bounced
    )
