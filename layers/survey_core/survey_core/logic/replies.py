"""SMS replies (two-way SMS): a score answers a survey, an opt-out suppresses the number.

AWS End User Messaging SMS publishes each inbound message to an SNS topic as JSON
(originationNumber, destinationNumber, messageBody, inboundMessageId, previousPublishedMessageId).
A reply answers the customer's most recent open invitation that asked by SMS; when the carrier
names the message being answered (previousPublishedMessageId) and it is one of ours, that one.
An unreadable or out-of-range reply gets one short help SMS per invitation, so an
auto-responder cannot start a loop, and none at all to a suppressed number (an opt-out means
no SMS of any kind). SNS delivers at least once: a redelivered score (same inboundMessageId) is
a duplicate and changes nothing. Nothing here logs the number or the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from msgspec import Struct

from ..catalogue import Catalogue
from ..config import CollectConfig
from ..dal.gateways import SmsSender
from ..domain.invitations import Invitation, Invitations
from ..domain.repositories import Repositories
from ..domain.suppressions import Suppression, address_key, suppressed_channels
from ..messages.i18n import text
from ..observability import correlate
from ..rules.eligibility import STOP_REPLY, normalize_phone
from ..rules.scoring import scale_of
from ..rules.sms_reply import read_reply
from .answers import Answered, accepts_answers, answer

Outcome = Literal[
    "answered",
    "duplicate",
    "opted-out",
    "help-sent",
    "help-already-sent",
    "help-suppressed",
    "no-open-survey",
    "rejected",
]


class InvalidInboundSms(ValueError):
    """The SNS message is not an End User Messaging inbound SMS we can read."""


class InboundSms(Struct, frozen=True):
    sender: str  # E.164
    body: str
    inbound_id: str
    in_reply_to: str | None  # the message id of ours the customer answered, when known

    @classmethod
    def from_sns_message(cls, message: str) -> InboundSms:
        try:
            payload = json.loads(message)
        except ValueError:
            raise InvalidInboundSms("not JSON") from None
        if not isinstance(payload, Mapping):
            raise InvalidInboundSms("not a JSON object")
        sender = normalize_phone(_string(payload, "originationNumber"))
        if sender is None:
            raise InvalidInboundSms("originationNumber is not an E.164 number")
        body = payload.get("messageBody")
        if not isinstance(body, str):
            raise InvalidInboundSms("messageBody is missing")
        return cls(
            sender=sender,
            body=body,
            inbound_id=_string(payload, "inboundMessageId") or "",
            in_reply_to=_string(payload, "previousPublishedMessageId"),
        )


def _string(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) and value else None


class ReplyPorts(Struct, frozen=True):
    sms: SmsSender  # the one help reply to an unreadable answer
    repos: Repositories


class ReplyResult(Struct, frozen=True):
    outcome: Outcome
    reading: str  # score | stop | out-of-range | unreadable
    invitation_id: str | None = None
    answered: Answered | None = None  # set when this reply stored an answer (not a duplicate)


def replied_invitation(
    sms: InboundSms, now: datetime, invitations: Invitations
) -> Invitation | None:
    """The open invitation this reply answers: the one named by the carrier if it is ours,
    else the most recent open one that asked this number by SMS."""
    open_ones = [
        invitation
        for invitation in invitations.asked_by_sms(address_key("sms", sms.sender))
        if accepts_answers(invitation, now)
    ]
    if sms.in_reply_to:
        for invitation in open_ones:
            if any(a.message_id == sms.in_reply_to for a in invitation.attempts):
                return invitation
    return max(open_ones, key=lambda i: str(i.last_sms_at), default=None)


def handle_reply(
    sms: InboundSms, config: CollectConfig, catalogue: Catalogue, ports: ReplyPorts
) -> ReplyResult:
    now = config.clock()
    invitation = replied_invitation(sms, now, ports.repos.invitations)
    invitation_id = invitation.invitation_id if invitation else None
    if invitation_id:  # this reply's later log lines (an error too) carry the survey's id
        correlate(invitation_id)
    reading = read_reply(sms.body, invitation.metric if invitation else "nps")
    if reading.kind == "stop":
        # The number opts out whether or not a survey is open. No SMS of ours follows (End User
        # Messaging confirms its own keywords itself). A redelivered opt-out writes the same
        # item again: harmless.
        ports.repos.suppressions.add(
            Suppression.of_address(
                "sms",
                sms.sender,
                reason=STOP_REPLY,
                source="sms-reply",
                at=now,
                invitation_id=invitation_id,
            )
        )
        return ReplyResult("opted-out", reading.kind, invitation_id)
    if invitation is None:
        return ReplyResult("no-open-survey", reading.kind)
    if reading.kind == "score":
        assert reading.score is not None
        answered = answer(
            invitation,
            {invitation.metric: reading.score},
            reading.comment,
            # A bare score keeps a comment given earlier (on the page); a new comment replaces it.
            keep_comment=reading.comment is None,
            config=config,
            catalogue=catalogue,
            responses=ports.repos.responses,
            channel="sms",
            inbound_id=sms.inbound_id or None,
        )
        if answered.duplicate:
            return ReplyResult("duplicate", reading.kind, invitation_id)
        return ReplyResult("answered", reading.kind, invitation_id, answered)
    if suppressed_channels(ports.repos.suppressions, {"sms": sms.sender}):
        # Opted out (a STOP reply, the unsubscribe page): no SMS of any kind, help included.
        return ReplyResult("help-suppressed", reading.kind, invitation_id)
    if not ports.repos.invitations.claim_help_reply(invitation.invitation_id, now):
        return ReplyResult("help-already-sent", reading.kind, invitation_id)
    low, high = scale_of(invitation.metric)
    ports.sms.send(phone=sms.sender, text=text(invitation.language, "sms_help", low=low, high=high))
    return ReplyResult("help-sent", reading.kind, invitation_id)
