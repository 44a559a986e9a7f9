"""Decide whether an inbound event starts a survey, and start it exactly once.

Per event: validate it; record activity; pick the surveys it starts (catalogue trigger and
filter, or the survey a Survey Requested names); remember the customer; then per survey plan
with the eligibility rules and store the invitation with its reason code. A scheduled
invitation and the customer's contact reservation are written in one transaction; the lifecycle
execution is named after the invitation, so repeats and races end in one survey.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from ..catalogue import Catalogue, Survey, business_key
from ..clock import iso
from ..config import TriggerConfig
from ..dal.gateways import Lifecycle, RejectedEvents
from ..domain.customers import Customer, Sighting
from ..domain.invitations import ContactChanged, Invitation
from ..domain.repositories import Repositories
from ..domain.suppressions import suppressed_channels
from ..events.contracts import InvalidEvent, validate_event
from ..messages.i18n import resolve_language
from ..rules.eligibility import (
    Plan,
    known_time_zone,
    normalize_email,
    normalize_phone,
    plan_invitation,
)
from ..tokens import invitation_id, new_link_token
from .channels import customer_facts

# How often one decision is retried when other surveys for the same customer keep reserving
# contact times concurrently; each retry re-reads the customer.
RESERVATION_ATTEMPTS = 5
# How long the lifecycle lets its expiry step take: a backstop only. The send function, called
# one past the last rung, ends its own wait within seconds or fails into MarkFailed; a step
# still waiting after a day fails the execution (waits has no entry after it), which the
# failed-surveys alarm reports. Generous, so a slow step is never cut off (a task timeout must
# be positive; the local stack scales it with every wait).
EXPIRY_STEP_SECONDS = 86_400
# The survey's expiry schedule ends the last rung's wait when the survey closes. The rung's own
# timeout is set this much later, a backstop for a schedule that never ran: it leads to the
# expiry step, so the survey still expires, a day late (ExpiriesNotPlanned, failed deliveries).
EXPIRY_BACKSTOP_SECONDS = 86_400

# When the business event happened, by contract; the send delay counts from it.
OCCURRED_AT_FIELD = {
    "Purchase Completed": "occurredAt",
    "Service Contact Closed": "closedAt",
}


# Why an event started no invitation at all (nothing to record on an invitation).
TRIGGER_FILTER = "trigger-filter"
ACTIVE_AGAIN = "active-again"
FILTER_REASONS = (TRIGGER_FILTER, ACTIVE_AGAIN)


class Decision(Struct, frozen=True):
    """What happened to one survey for one event: logged and counted, never personal data."""

    # started | duplicate | suppressed | rejected | no-survey | filtered | activity
    outcome: str
    reason: str | None = None
    invitation_id: str | None = None
    survey_id: str | None = None


class TriggerPorts(Struct, frozen=True):
    lifecycle: Lifecycle
    rejected: RejectedEvents
    repos: Repositories


class GivenContact(Struct, frozen=True):
    """Contact points as the event gave them: valid ones normalized, invalid ones flagged."""

    email: str | None
    phone: str | None
    email_invalid: bool
    phone_invalid: bool

    @classmethod
    def from_detail(cls, raw: dict[str, Any]) -> GivenContact:
        email, phone = normalize_email(raw.get("email")), normalize_phone(raw.get("phone"))
        return cls(
            email=email,
            phone=phone,
            email_invalid=bool(raw.get("email")) and email is None,
            phone_invalid=bool(raw.get("phone")) and phone is None,
        )


def handle_event(
    event: dict[str, Any], config: TriggerConfig, catalogue: Catalogue, ports: TriggerPorts
) -> list[Decision]:
    try:
        detail_type, detail = validate_event(event)
        surveys = _surveys_for(detail_type, detail, catalogue)
    except InvalidEvent as invalid:
        ports.rejected.send(event, invalid.reason)
        return [Decision("rejected", reason=invalid.reason)]
    now = config.clock()
    if detail_type == "Customer Activity":
        return [_record_activity(detail, config, catalogue, now, ports.repos)]
    if not surveys:
        return [Decision("no-survey", reason=detail_type)]
    matching = [s for s in surveys if _starts(s, detail_type, detail, now)]
    if not matching:
        return [Decision("filtered", reason=TRIGGER_FILTER)]
    given = GivenContact.from_detail(detail["customer"])
    customer = _remember_customer(detail["customer"], given, config, catalogue, now, ports.repos)
    if detail_type == "Customer Inactive" and _active_since(customer, detail["inactiveSince"]):
        return [Decision("filtered", reason=ACTIVE_AGAIN)]
    # The suppression list is read once per event: an opted-out or bounced address is left
    # out of every plan (and checked again at each message).
    suppressed = suppressed_channels(
        ports.repos.suppressions, {"email": customer.email, "sms": customer.phone}
    )
    return [
        _invite(survey, event, detail_type, detail, customer, given, suppressed, config, ports)
        for survey in matching
    ]


def _surveys_for(detail_type: str, detail: dict[str, Any], catalogue: Catalogue) -> list[Survey]:
    if detail_type != "Survey Requested":
        return catalogue.surveys_for(detail_type)
    survey = catalogue.find(detail["surveyId"])
    if survey is None:
        raise InvalidEvent("detail.surveyId: no such survey in the catalogue", "detail.surveyId")
    return [survey]


def _starts(survey: Survey, detail_type: str, detail: dict[str, Any], now: datetime) -> bool:
    if detail_type == "Survey Requested" or survey.trigger is None:
        return True
    if not survey.trigger.matches(detail):
        return False
    if survey.trigger.inactivity_days is not None:
        inactive_since = datetime.fromisoformat(detail["inactiveSince"])
        return now - inactive_since >= timedelta(days=survey.trigger.inactivity_days)
    return True


def _active_since(customer: Customer, inactive_since: str) -> bool:
    """A Customer Inactive event that arrives after the customer came back is stale."""
    if not customer.last_activity_at:
        return False
    return datetime.fromisoformat(customer.last_activity_at) > datetime.fromisoformat(
        inactive_since
    )


def _record_activity(
    detail: dict[str, Any],
    config: TriggerConfig,
    catalogue: Catalogue,
    now: datetime,
    repos: Repositories,
) -> Decision:
    given = GivenContact.from_detail(detail["customer"])
    _remember_customer(detail["customer"], given, config, catalogue, now, repos)
    moved = repos.customers.record_activity(
        detail["customer"]["id"], datetime.fromisoformat(detail["occurredAt"])
    )
    return Decision("activity", reason=None if moved else "older-than-recorded")


def _remember_customer(
    raw: dict[str, Any],
    given: GivenContact,
    config: TriggerConfig,
    catalogue: Catalogue,
    now: datetime,
    repos: Repositories,
) -> Customer:
    time_zone = raw.get("timeZone")
    if time_zone and not known_time_zone(time_zone):
        time_zone = None  # an unknown zone is not stored: the catalogue default applies
    return repos.customers.remember(
        Sighting(
            customer_id=raw["id"],
            at=now,
            expires_at=now + timedelta(days=config.retention.customers),
            default_language=catalogue.default_language,
            language=resolve_language(raw["language"]) if raw.get("language") else None,
            email=given.email,
            phone=given.phone,
            time_zone=time_zone,
            consent=raw.get("consent", {}),
        )
    )


def _occurred_at(detail_type: str, detail: dict[str, Any], now: datetime) -> datetime:
    field = OCCURRED_AT_FIELD.get(detail_type)
    return datetime.fromisoformat(detail[field]) if field else now


def _invite(
    survey: Survey,
    event: dict[str, Any],
    detail_type: str,
    detail: dict[str, Any],
    customer: Customer,
    given: GivenContact,
    suppressed: dict[str, str],
    config: TriggerConfig,
    ports: TriggerPorts,
) -> Decision:
    key = business_key(detail_type, detail)
    new_id = invitation_id(survey.id, key)
    not_before = detail.get("notBefore")
    for _ in range(RESERVATION_ATTEMPTS):
        now = config.clock()
        plan = plan_invitation(
            survey=survey,
            customer=customer_facts(
                customer,
                suppressed,
                email_invalid=given.email_invalid,
                phone_invalid=given.phone_invalid,
            ),
            occurred_at=_occurred_at(detail_type, detail, now),
            now=now,
            not_before=datetime.fromisoformat(not_before) if not_before else None,
        )
        invitation = _new_invitation(
            new_id, survey, key, event, detail, customer, plan, config, now
        )
        if plan.suppressed:
            if ports.repos.invitations.create(invitation):
                return Decision("suppressed", plan.reason, new_id, survey.id)
            return _repeated(new_id, survey, ports)
        assert plan.last_contact_at is not None
        seen = customer.last_contact_at
        reserve = max(iso(plan.last_contact_at), seen or "")
        try:
            created = ports.repos.invitations.schedule(
                invitation, seen_last_contact=seen, new_last_contact=reserve
            )
        except ContactChanged:
            fresh = ports.repos.customers.get(customer.customer_id)
            assert fresh is not None  # remembered above; customers are never deleted mid-event
            customer = fresh
            continue
        if not created:
            return _repeated(new_id, survey, ports)
        ports.lifecycle.start(new_id, lifecycle_input(invitation))
        return Decision("started", plan.reason, new_id, survey.id)
    # Still contended after every attempt: fail the invocation so EventBridge retries it
    # (and, after its retries, the event lands in the failed-deliveries queue): never dropped.
    raise RuntimeError(f"invitation {new_id}: customer contact kept changing; retry later")


def _repeated(new_id: str, survey: Survey, ports: TriggerPorts) -> Decision:
    existing = ports.repos.invitations.get(new_id)
    if existing is not None and existing.status == "pending":
        # An earlier attempt stored it but may have failed before starting the lifecycle;
        # the same name and input make this start a no-op if it did start.
        ports.lifecycle.start(new_id, lifecycle_input(existing))
    return Decision("duplicate", invitation_id=new_id, survey_id=survey.id)


def _new_invitation(
    new_id: str,
    survey: Survey,
    key: str,
    event: dict[str, Any],
    detail: dict[str, Any],
    customer: Customer,
    plan: Plan,
    config: TriggerConfig,
    now: datetime,
) -> Invitation:
    """The invitation as planned at `now` (the instant the plan was made)."""
    return Invitation(
        new_id,
        link_token=new_link_token(),
        survey_id=survey.id,
        customer_id=customer.customer_id,
        business_key=key,
        source_event_id=str(event.get("id", "")),
        metric=survey.primary_metric,
        metrics=list(survey.metrics),
        language=customer.language,
        segment=detail.get("segment", {}),
        channels=list(plan.channels),
        rung_at=[iso(rung.at) for rung in plan.rungs],
        status="suppressed" if plan.suppressed else "pending",
        reason=plan.reason,
        send_at=iso(plan.send_at) if plan.send_at else None,
        closes_at=iso(plan.expires_at) if plan.expires_at else None,
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=now + timedelta(days=config.retention.invitations),
    )


def _seconds_between(start: str, end: str) -> int:
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return max(1, int(delta.total_seconds()))


def wait_ends(invitation: Invitation) -> list[str]:
    """When each rung's wait for an answer times out: the next rung is due, or, after the last
    rung, the backstop after the survey closes (its expiry schedule ends that wait first)."""
    assert invitation.closes_at
    starts = [str(at) for at in invitation.rung_at]
    backstop = datetime.fromisoformat(str(invitation.closes_at)) + timedelta(
        seconds=EXPIRY_BACKSTOP_SECONDS
    )
    return [*starts[1:], iso(backstop)]


def lifecycle_input(invitation: Invitation) -> dict[str, Any]:
    """Derived from the stored invitation only, so a repeated start sends identical input.

    waits[i] is how long rung i waits for an answer: until rung i+1 is due, or, after the last
    rung, until the backstop (the expiry schedule ends that wait when the survey closes). The
    last entry bounds the expiry step (the send function called one past the last rung, only
    when the schedule did not run), which ends its own wait at once.
    """
    assert invitation.send_at and invitation.closes_at
    starts = [str(at) for at in invitation.rung_at]
    ends = wait_ends(invitation)
    return {
        "invitationId": invitation.invitation_id,
        "sendAt": invitation.send_at,
        "waits": [
            *(_seconds_between(s, e) for s, e in zip(starts, ends, strict=True)),
            EXPIRY_STEP_SECONDS,
        ],
    }
