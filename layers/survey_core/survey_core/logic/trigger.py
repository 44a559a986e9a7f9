"""Decide whether an inbound event starts a survey, and start it exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from ..catalogue import Catalogue, Survey, business_key
from ..clock import iso
from ..config import TriggerConfig
from ..contracts import InvalidEvent, validate_event
from ..dal import store
from ..dal.gateways import Lifecycle, RejectedEvents
from ..dal.models import Customer, Invitation
from ..i18n import resolve_language
from ..tokens import invitation_id, new_link_token
from .channels import usable


@dataclass(frozen=True)
class Decision:
    """What happened to one survey for one event: logged and counted, never personal data."""

    outcome: str  # started | duplicate | suppressed | rejected | no-survey
    reason: str | None = None
    invitation_id: str | None = None
    survey_id: str | None = None


@dataclass(frozen=True)
class TriggerPorts:
    lifecycle: Lifecycle
    rejected: RejectedEvents


def handle_event(
    event: dict[str, Any], config: TriggerConfig, catalogue: Catalogue, ports: TriggerPorts
) -> list[Decision]:
    try:
        detail_type, detail = validate_event(event)
    except InvalidEvent as invalid:
        ports.rejected.send(event, invalid.reason)
        return [Decision("rejected", reason=invalid.reason)]
    surveys = catalogue.surveys_for(detail_type)
    if not surveys:
        return [Decision("no-survey", reason=detail_type)]
    customer = _remember_customer(detail["customer"], config, catalogue)
    return [
        _invite(survey, event, detail_type, detail, customer, config, ports) for survey in surveys
    ]


def _remember_customer(
    raw: dict[str, Any], config: TriggerConfig, catalogue: Catalogue
) -> Customer:
    now = config.clock()
    return store.upsert_customer(
        customer_id=raw["id"],
        email=raw.get("email"),
        phone=raw.get("phone"),
        language=resolve_language(raw.get("language") or catalogue.default_language),
        time_zone=raw.get("timeZone"),
        consent=raw.get("consent", {}),
        now=now,
        expires_at=now + timedelta(days=config.retention_days),
    )


def _invite(
    survey: Survey,
    event: dict[str, Any],
    detail_type: str,
    detail: dict[str, Any],
    customer: Customer,
    config: TriggerConfig,
    ports: TriggerPorts,
) -> Decision:
    key = business_key(detail_type, detail)
    new_id = invitation_id(survey.id, key)
    now = config.clock()
    reachable = [rung.channel for rung in survey.ladder if usable(rung.channel, customer)]
    invitation = Invitation(
        new_id,
        link_token=new_link_token(),
        survey_id=survey.id,
        customer_id=customer.customer_id,
        business_key=key,
        source_event_id=str(event.get("id", "")),
        metric=survey.primary_metric,
        language=customer.language,
        segment=detail.get("segment", {}),
        channels=[rung.channel for rung in survey.ladder],
        wait_seconds=[rung.wait_seconds for rung in survey.ladder],
        status="pending" if reachable else "suppressed",
        reason=None if reachable else "no-contact-point",
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=now + timedelta(days=config.retention_days),
    )
    if not store.create_invitation(invitation):
        existing = store.get_invitation(new_id)
        if existing is not None and existing.status == "pending":
            # An earlier attempt stored it but may have failed before starting the lifecycle;
            # the same name and input make this start a no-op if it did start.
            ports.lifecycle.start(new_id, lifecycle_input(existing))
        return Decision("duplicate", invitation_id=new_id, survey_id=survey.id)
    if not reachable:
        return Decision("suppressed", "no-contact-point", new_id, survey.id)
    ports.lifecycle.start(new_id, lifecycle_input(invitation))
    return Decision("started", invitation_id=new_id, survey_id=survey.id)


def lifecycle_input(invitation: Invitation) -> dict[str, Any]:
    """Derived from the stored invitation only, so a repeated start sends identical input."""
    waits = [int(cast(float, w)) for w in invitation.wait_seconds]
    return {
        "invitationId": invitation.invitation_id,
        "timeouts": {
            "invitation": waits[0],
            "reminder": waits[1] if len(waits) > 1 else 1,
        },
    }
