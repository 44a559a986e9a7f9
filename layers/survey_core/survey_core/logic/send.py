"""Send one rung of the channel ladder: the invitation (rung 0) or a reminder."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue import Catalogue
from ..clock import iso
from ..config import SendConfig
from ..dal import store
from ..dal.gateways import EventBus, Lifecycle, Mailer, SmsSender
from ..dal.models import Attempt, Customer, Invitation
from ..errors import InvitationNotFound, NoReachableChannel
from ..rendering import render_invitation_email, render_sms
from .channels import choose_channel

CLOSED = frozenset({"answered", "expired", "failed", "suppressed"})


@dataclass(frozen=True)
class SendPorts:
    lifecycle: Lifecycle
    mailer: Mailer
    sms: SmsSender
    bus: EventBus


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | skipped | closed
    channel: str | None = None
    reason: str | None = None


def survey_url(config: SendConfig, invitation: Invitation) -> str:
    return f"{config.survey_base_url}/s/{invitation.link_token}"


def send_rung(
    invitation_id: str,
    rung: int,
    task_token: str,
    config: SendConfig,
    catalogue: Catalogue,
    ports: SendPorts,
) -> SendResult:
    invitation = store.get_invitation(invitation_id)
    if invitation is None:
        raise InvitationNotFound(invitation_id)
    if invitation.status in CLOSED:
        # Answered while this rung was on its way: end the wait instead of sending.
        ports.lifecycle.answer(task_token, {"status": invitation.status})
        return SendResult("closed", reason=invitation.status)
    now = config.clock()
    # The token is stored before sending, so an answer that comes at once can end the wait.
    store.store_task_token(invitation_id, task_token, now)
    customer = store.get_customer(invitation.customer_id)
    channel = choose_channel(invitation, customer, rung) if customer else None
    if channel is None:
        if rung == 0:
            raise NoReachableChannel(f"invitation {invitation_id}: no usable channel")
        attempt = Attempt(rung=rung, channel="none", outcome="skipped", at=iso(now))
        attempt.reason = "no-usable-channel"
        store.record_attempt(invitation_id, attempt, sent=False, now=now)
        return SendResult("skipped", reason="no-usable-channel")
    assert customer is not None
    message_id = _deliver(channel, invitation, customer, rung, config, catalogue, ports)
    attempt = Attempt(rung=rung, channel=channel, outcome="sent", at=iso(now))
    attempt.message_id = message_id
    store.record_attempt(invitation_id, attempt, sent=True, now=now)
    store.record_contact(customer.customer_id, now)
    ports.bus.put(
        "Survey Invitation Sent",
        {
            "version": "1",
            "invitationId": invitation_id,
            "surveyId": invitation.survey_id,
            "customerId": invitation.customer_id,
            "channel": channel,
            "rung": rung,
            "sentAt": iso(now),
            "segment": invitation.segment.as_dict() if invitation.segment else {},
        },
    )
    return SendResult("sent", channel=channel)


def _deliver(
    channel: str,
    invitation: Invitation,
    customer: Customer,
    rung: int,
    config: SendConfig,
    catalogue: Catalogue,
    ports: SendPorts,
) -> str:
    url = survey_url(config, invitation)
    if channel == "email":
        email = render_invitation_email(
            language=invitation.language,
            metric=invitation.metric,
            question=catalogue.question(
                invitation.survey_id, invitation.metric, invitation.language
            ),
            company=catalogue.company,
            survey_url=url,
            reminder=rung > 0,
        )
        assert customer.email is not None
        return ports.mailer.send(
            to=[customer.email], subject=email.subject, html=email.html, text=email.text
        )
    text = render_sms(
        language=invitation.language, company=catalogue.company, survey_url=url, reminder=rung > 0
    )
    assert customer.phone is not None
    return ports.sms.send(phone=customer.phone, text=text)
