"""Send one rung of the channel ladder: the invitation (rung 0), a reminder, or the SMS that
stands in for a rung's bounced email (a fallback); one past the last rung, expire the survey.

The lifecycle calls this with a task token and waits on it; whatever happens here (sent,
skipped, the survey already answered), the wait goes on until an answer or the next rung.
Before the last rung goes out, it plans the survey's expiry: a one-time schedule calls this
function again when the survey closes (expire_closed), which expires the survey and ends the
last wait. The lifecycle has no expiry states of its own, because each state entered is a
billed transition and most surveys are never answered. Should the schedule never run, the
last rung's own timeout (a day later) brings the lifecycle here one past the last rung, and
the survey expires then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from ..catalogue import Catalogue
from ..clock import iso
from ..config import SendConfig
from ..dal.gateways import EventBus, ExpirySchedules, Lifecycle, Mailer, SmsSender
from ..domain.customers import Customer
from ..domain.invitations import SENDING, Attempt, Invitation, Invitations
from ..domain.repositories import Repositories
from ..domain.suppressions import Suppressions, address_key
from ..errors import (
    DeliveryFailed,
    EventsNotPut,
    ExpiryNotPlanned,
    InvitationNotFound,
    MessageRefused,
    NoReachableChannel,
    NotRecorded,
)
from ..messages.rendering import render_invitation_email, render_sms
from .channels import RungChannels, current_facts, rung_channels
from .counting import DELIVERED, REACHED, counting_day, sent_counts

# The earliest an expiry schedule is planned from now (Scheduler runs with minute precision).
EXPIRY_LEAD = timedelta(minutes=1)
CLOSED = frozenset({"answered", "expired", "failed", "suppressed"})
# What an unanswered survey may be in when its last wait ends; "expired" again when a retried
# expiry finds its own write (the expiry is then announced again: at least once, never lost).
EXPIRABLE = frozenset({"pending", "sent", "expired"})


class SendPorts(Struct, frozen=True):
    lifecycle: Lifecycle
    mailer: Mailer
    sms: SmsSender
    bus: EventBus
    expiries: ExpirySchedules
    repos: Repositories


class Fallback(Struct, frozen=True):
    """Set by the delivery function when a rung's email bounced (the EmailBounced cause)."""

    channel: str
    at: str  # when to send, outside quiet hours
    wait: int  # seconds the fallback waits for an answer: until the next rung is due


class SendRequest(Struct, frozen=True):
    invitation_id: str
    rung: int
    task_token: str
    fallback: Fallback | None = None
    function_arn: str = ""  # this function's: the survey's expiry schedule calls it back

    @classmethod
    def from_event(cls, event: Mapping[str, Any], function_arn: str = "") -> SendRequest:
        raw = event.get("fallback")
        return cls(
            invitation_id=str(event["invitationId"]),
            rung=int(event["rung"]),
            task_token=str(event["taskToken"]),
            fallback=Fallback(str(raw["channel"]), str(raw["at"]), int(raw["wait"]))
            if raw
            else None,
            function_arn=function_arn,
        )


def is_scheduled_expiry(event: Mapping[str, Any]) -> bool:
    """The survey's expiry schedule calls with {"invitationId": ..., "expire": true}."""
    return event.get("expire") is True


def expiry_schedule_name(invitation_id: str) -> str:
    return f"expire-{invitation_id}"


class SendResult(Struct, frozen=True):
    outcome: str  # sent | repeated | skipped | closed | expired
    channel: str | None = None
    kind: str | None = None  # invitation | reminder | last-reminder
    reason: str | None = None
    sms_segments: int | None = None
    announced: bool = True  # False: sent, but its Survey Invitation Sent was refused
    # False: sent, but recording it failed after retries (its attempt stays "sending")
    recorded: bool = True
    # False: Scheduler refused the expiry schedule; the backstop expires the survey a day late.
    expiry_planned: bool = True


def survey_url(config: SendConfig, invitation: Invitation) -> str:
    return f"{config.survey_base_url}/s/{invitation.link_token}"


def unsubscribe_url(config: SendConfig, invitation: Invitation) -> str:
    return f"{config.survey_base_url}/u/{invitation.link_token}"


def message_kind(invitation: Invitation, rung: int) -> str:
    """The first message that reaches the customer invites; later ones remind. A bounced
    email did not reach them, so its SMS fallback invites."""
    if not any(attempt.outcome in REACHED for attempt in invitation.attempts):
        return "invitation"
    return "last-reminder" if rung >= len(invitation.channels) - 1 else "reminder"


def send_rung(
    request: SendRequest, config: SendConfig, catalogue: Catalogue, ports: SendPorts
) -> SendResult:
    invitation = ports.repos.invitations.get(request.invitation_id)
    if invitation is None:
        raise InvitationNotFound(request.invitation_id)
    if request.rung >= len(invitation.rung_at):
        return expire(invitation, request.task_token, config, ports)
    if invitation.status in CLOSED:
        # Answered (or closed) while this rung was on its way: end the wait instead of sending.
        ports.lifecycle.answer(request.task_token, {"status": invitation.status})
        return SendResult("closed", reason=invitation.status)
    now = config.clock()
    # The token is stored before sending, so an answer that comes at once can end the wait
    # (and the expiry schedule ends the last one with it).
    # The store retries transient errors itself: the rung's own retries cover Lambda.
    if not ports.repos.invitations.store_task_token(
        invitation.invitation_id, request.task_token, now
    ):
        # Answered between the read above and now: the answer's outbox may have read the
        # previous rung's token, so this wait is ours to end (ended twice is harmless).
        current = ports.repos.invitations.get(invitation.invitation_id)
        status = str(current.status) if current is not None else "erased"
        ports.lifecycle.answer(request.task_token, {"status": status})
        return SendResult("closed", reason=status)
    last = request.rung == len(invitation.rung_at) - 1
    planned = not last or _plan_expiry(invitation, request, ports, now)
    result = _send(invitation, request, config, catalogue, ports, now)
    return result if planned else replace(result, expiry_planned=False)


def _plan_expiry(
    invitation: Invitation, request: SendRequest, ports: SendPorts, now: datetime
) -> bool:
    """Planned before the last rung goes out, so a retried rung plans it again; a rung sent
    again (its email bounced) finds it planned. A closing time already (nearly) past, a last
    rung that ran very late, is planned a minute from now: never a time in the past."""
    assert invitation.closes_at
    closes_at = datetime.fromisoformat(str(invitation.closes_at))
    try:
        ports.expiries.plan(
            expiry_schedule_name(invitation.invitation_id),
            max(closes_at, now + EXPIRY_LEAD),
            request.function_arn,
            {"invitationId": invitation.invitation_id, "expire": True},
        )
    except ExpiryNotPlanned:
        return False
    return True


def _send(
    invitation: Invitation,
    request: SendRequest,
    config: SendConfig,
    catalogue: Catalogue,
    ports: SendPorts,
    now: datetime,
) -> SendResult:
    earlier = _sent_before(invitation, request)
    if earlier is not None:
        # A retried invocation of a rung whose message went out (or may have: its attempt is
        # still "sending"): waiting on the new token is all that is left to do; the customer
        # does not get the message twice.
        return SendResult("repeated", channel=str(earlier.channel))
    customer = ports.repos.customers.get(invitation.customer_id)
    choice = _channels_for(invitation, request, customer, ports.repos.suppressions)
    kind = message_kind(invitation, request.rung)
    outbox = _Outbox(invitation, request, config, now, kind, ports.repos.invitations)
    refused: list[str] = []
    for channel in choice.candidates:
        assert customer is not None  # candidates come from the customer's contact points
        try:
            deliver = partial(
                _deliver, channel, outbox.kind, request.rung, invitation, customer, config,
                catalogue, ports,
            )  # fmt: skip
            sent = outbox.send(channel, customer, deliver)
        except MessageRefused as refusal:
            refused.append(f"{channel}: {refusal.code}")
            continue
        announced = _announce(invitation, request, channel, outbox.kind, now, ports)
        return replace(sent, announced=announced)
    if not choice.candidates:
        _record_skipped(invitation, request, now, choice.skipped_because, ports.repos.invitations)
    if request.rung == 0 and request.fallback is None:
        # The invitation reached no one: the lifecycle records the failure with this error's
        # name (MarkFailed), so it is never lost silently.
        if refused:
            raise DeliveryFailed("; ".join(refused))
        raise NoReachableChannel(choice.skipped_because or "no usable channel")
    return SendResult(
        "skipped", kind=outbox.kind, reason="; ".join(refused) or choice.skipped_because
    )


class _Outbox:
    """Hands one rung's messages to SES or SNS, each between an intent and its outcome.

    Before a message goes, its attempt is stored as "sending" (with the address's suppression
    key and the message counted as sent, Invitations.record_intent): if that write fails nothing
    was sent, and the lifecycle retries the rung. After SES or SNS took it, it is recorded as
    sent; if that fails after retries, the rung does not fail (the lifecycle would retry it or
    mark a delivered survey failed): the attempt stays "sending", which a retried rung takes
    as sent, and the result says it was not recorded (SentNotRecorded). A message refused or
    not taken (throttled, an error) is withdrawn: counted back, and `contacted_at` forgotten
    when nothing else may have reached the customer."""

    def __init__(
        self,
        invitation: Invitation,
        request: SendRequest,
        config: SendConfig,
        now: datetime,
        kind: str,
        invitations: Invitations,
    ) -> None:
        self.invitations = invitations
        self.invitation = invitation
        self.request = request
        self.now = now
        self.kind = kind
        self.day = counting_day(now, config.reporting_time_zone)
        self.index = len(invitation.attempts)  # where the next attempt lands
        self.contacted = any(a.outcome in REACHED for a in invitation.attempts)

    def send(
        self,
        channel: str,
        customer: Customer,
        deliver: Callable[[], tuple[str, int | None]],
    ) -> SendResult:
        """Send one message; MessageRefused (recorded) when SES or SNS refused it for good."""
        invitation, index = self.invitation, self.index
        address = str(customer.email if channel == "email" else customer.phone)
        key = address_key(channel, address)
        counts = sent_counts(invitation, channel, self.day)
        attempt = Attempt(
            rung=self.request.rung,
            channel=channel,
            outcome=SENDING,
            at=iso(self.now),
            fallback=self.request.fallback is not None,
            address_key=key,
        )
        self.invitations.record_intent(invitation.invitation_id, attempt, index, self.now, counts)
        try:
            message_id, segments = deliver()
        except MessageRefused as refusal:
            self.index += 1  # the attempt stays, failed with the code
            self.invitations.withdraw_intent(
                invitation.invitation_id, index, counts, self.now,
                refused=refusal.code, contacted_before=self.contacted,
            )  # fmt: skip
            raise
        except Exception:
            # Not taken: withdrawn, so the retried rung sends it. Should even that fail, the
            # retried rung finds it "sending" and takes it as sent: never twice.
            with contextlib.suppress(NotRecorded):
                self.invitations.withdraw_intent(
                    invitation.invitation_id, index, counts, self.now,
                    refused=None, contacted_before=self.contacted,
                )  # fmt: skip
            raise
        self.index += 1
        recorded = True
        try:
            self.invitations.record_sent(
                invitation.invitation_id, invitation.customer_id, index, message_id, self.now,
                sms_address=key if channel == "sms" else None,
            )  # fmt: skip
        except NotRecorded:
            recorded = False
        return SendResult(
            "sent", channel=channel, kind=self.kind, sms_segments=segments, recorded=recorded
        )


def expire_closed(invitation_id: str, config: SendConfig, ports: SendPorts) -> SendResult:
    """The survey's expiry schedule: it closed. Expire it unless it was answered, and end the
    lifecycle's last wait with the token the last rung stored."""
    invitation = ports.repos.invitations.get(invitation_id)
    if invitation is None:  # erased since (tools.customer_data): nothing is left to expire
        return SendResult("closed", reason="erased")
    task_token = ports.repos.invitations.task_token(invitation_id)
    return expire(invitation, task_token or "", config, ports)


def expire(
    invitation: Invitation, task_token: str, config: SendConfig, ports: SendPorts
) -> SendResult:
    """No answer before the survey closed: mark it expired (unless an answer won the race),
    announce it, and end the lifecycle's wait."""
    if invitation.status not in EXPIRABLE:
        _end_wait(ports, task_token, invitation.status)
        return SendResult("closed", reason=invitation.status)
    now = config.clock()
    expired = ports.repos.invitations.expire(invitation.invitation_id, now, from_statuses=EXPIRABLE)
    if not expired:  # answered at the last moment
        _end_wait(ports, task_token, "answered")
        return SendResult("closed", reason="answered")
    ports.bus.put(
        "Survey Expired",
        {"version": "1", "invitationId": invitation.invitation_id, "expiredAt": iso(now)},
    )
    _end_wait(ports, task_token, "expired")
    return SendResult("expired")


def _end_wait(ports: SendPorts, task_token: str, status: str) -> None:
    if task_token:  # the last rung stored its token before it planned the expiry
        ports.lifecycle.answer(task_token, {"status": status})


def _sent_before(invitation: Invitation, request: SendRequest) -> Attempt | None:
    fallback = request.fallback is not None
    return next(
        (
            attempt
            for attempt in invitation.attempts
            if int(attempt.rung) == request.rung
            and bool(attempt.fallback) == fallback
            and attempt.outcome in DELIVERED
        ),
        None,
    )


def _channels_for(
    invitation: Invitation,
    request: SendRequest,
    customer: Customer | None,
    suppressions: Suppressions,
) -> RungChannels:
    if customer is None:  # erased while the survey was open
        return RungChannels((), "no-contact-point")
    fallback = request.fallback.channel if request.fallback else None
    facts = current_facts(customer, suppressions)
    return rung_channels(invitation, request.rung, fallback, facts)


def _deliver(
    channel: str,
    kind: str,
    rung: int,
    invitation: Invitation,
    customer: Customer,
    config: SendConfig,
    catalogue: Catalogue,
    ports: SendPorts,
) -> tuple[str, int | None]:
    """Send on one channel; returns the message id and, for an SMS, its segment count."""
    url = survey_url(config, invitation)
    if channel == "email":
        assert customer.email is not None
        unsubscribe = unsubscribe_url(config, invitation)
        email = render_invitation_email(
            language=invitation.language,
            metric=invitation.metric,
            question=catalogue.question(
                invitation.survey_id, invitation.metric, invitation.language
            ),
            company=catalogue.company,
            survey_url=url,
            unsubscribe_url=unsubscribe,
            kind=kind,
            brand=catalogue.brand,
        )
        message_id = ports.mailer.send(
            to=[customer.email],
            email=email,
            unsubscribe_url=unsubscribe,
            # SES puts these on its bounce and complaint events: the way back to this rung.
            tags={"invitation": invitation.invitation_id, "rung": str(rung)},
        )
        return message_id, None
    assert customer.phone is not None
    sms = render_sms(
        language=invitation.language,
        company=catalogue.company,
        metric=invitation.metric,
        survey_url=url,
        kind=kind,
    )
    return ports.sms.send(phone=customer.phone, text=sms.text), sms.size.segments


def _record_skipped(
    invitation: Invitation,
    request: SendRequest,
    now: datetime,
    reason: str | None,
    invitations: Invitations,
) -> None:
    attempt = Attempt(
        rung=request.rung,
        channel="none",
        outcome="skipped",
        at=iso(now),
        reason=reason,
        fallback=request.fallback is not None,
    )
    invitations.record_attempt(invitation.invitation_id, attempt, now)


def _announce(
    invitation: Invitation,
    request: SendRequest,
    channel: str,
    kind: str,
    now: datetime,
    ports: SendPorts,
) -> bool:
    """Put Survey Invitation Sent; False when it was refused. The message is out and recorded
    by then: failing the rung would mark a delivered survey failed, and its retry would find
    the message sent and announce nothing either. So the event is lost, loudly: the handler
    logs it and counts AnnouncementsFailed, which an alarm watches."""
    try:
        ports.bus.put(
            "Survey Invitation Sent",
            {
                "version": "1",
                "invitationId": invitation.invitation_id,
                "surveyId": invitation.survey_id,
                "customerId": invitation.customer_id,
                "channel": channel,
                "rung": request.rung,
                "kind": kind,
                "fallback": request.fallback is not None,
                "sentAt": iso(now),
                "segment": dict(invitation.segment),
            },
        )
    except EventsNotPut:
        return False
    return True
