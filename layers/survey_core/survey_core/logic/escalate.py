"""A low score (or a comment keyword) becomes an Amazon Connect callback task, exactly once per
response; Connect's contact events then record how the team followed it up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..catalogue import DEFAULT_SLA_HOURS, Catalogue
from ..clock import iso
from ..config import EscalateConfig
from ..contracts import validate_detail
from ..dal import store
from ..dal.gateways import ContactCenter, EventBus, Notifier
from ..dal.models import Escalation
from ..dal.store import Counts
from ..escalation import (
    earliest,
    escalation_reasons,
    follow_up,
    keyword_match,
    rule_for,
    scheduled_time,
)
from ..safe_text import one_line
from .counting import counting_day

SEGMENT_LABELS = {
    "businessArea": "Business area",
    "touchpoint": "Touchpoint",
    "interactionChannel": "Interaction channel",
    "agentId": "Agent",
    "productId": "Product",
    "storeId": "Store",
}
METRIC_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
# StartTaskContact limits (botocore's Connect model): Name 512, Description 4096.
MAX_NAME = 512
MAX_DESCRIPTION = 4096
MAX_COMMENT_IN_TASK = 2000


@dataclass(frozen=True)
class EscalatePorts:
    contact_center: ContactCenter
    bus: EventBus
    notifier: Notifier | None = None


@dataclass(frozen=True)
class EscalationResult:
    outcome: str  # created | already-created | not-escalated
    contact_id: str | None = None
    reasons: list[str] = field(default_factory=list)


def task_request(
    detail: Mapping[str, Any],
    comment: str | None,
    reasons: list[str],
    reference_url: str | None,
) -> dict[str, Any]:
    """Name, description, references and routing attributes of the callback task (pure)."""
    scores = {metric: int(score) for metric, score in detail["scores"].items()}
    summary = ", ".join(f"{METRIC_LABELS.get(m, m.upper())} {s}" for m, s in scores.items())
    segment = detail.get("segment", {})
    lines = [
        f"{summary} on survey {detail['surveyId']}, answered {detail['answeredAt']} "
        f"by {detail['channel']}.",
        f"Escalated because: {'; '.join(reasons)}.",
    ]
    # Values from outside stay on their own line: a comment cannot forge the task's lines.
    lines += [f"{SEGMENT_LABELS.get(k, k)}: {one_line(str(v))}" for k, v in sorted(segment.items())]
    if comment:
        comment = one_line(comment)
        cut = (
            comment if len(comment) <= MAX_COMMENT_IN_TASK else comment[:MAX_COMMENT_IN_TASK] + "…"
        )
        lines.append(f"Comment: {cut}")
    else:
        lines.append("No comment.")
    lines.append(f"Customer: {detail['customerId']}. Invitation: {detail['invitationId']}.")
    metric, score = next(iter(scores.items()))
    attributes = {
        "surveyId": detail["surveyId"],
        "invitationId": detail["invitationId"],
        "customerId": detail["customerId"],
        "metric": metric,
        "score": str(score),
        "reasons": "; ".join(reasons),
        **{k: str(v) for k, v in segment.items()},
    }
    references: dict[str, dict[str, str]] = {}
    if reference_url:
        url = reference_url.format(
            customerId=detail["customerId"],
            invitationId=detail["invitationId"],
            surveyId=detail["surveyId"],
        )
        references["Customer"] = {"Value": url, "Type": "URL"}
    return {
        "name": f"Callback: {summary} ({detail['surveyId']})"[:MAX_NAME],
        "description": "\n".join(lines)[:MAX_DESCRIPTION],
        "attributes": attributes,
        "references": references,
        # Connect keeps a ClientToken for 7 days: a retried event gets the same task.
        "client_token": f"escalation-{detail['invitationId']}",
    }


def escalate(
    event: Mapping[str, Any],
    config: EscalateConfig,
    catalogue: Catalogue,
    ports: EscalatePorts,
) -> EscalationResult:
    detail = event["detail"]
    validate_detail("Survey Response Received", detail)
    now = config.clock()
    survey = catalogue.find(detail["surveyId"])
    rule = rule_for(catalogue, detail["surveyId"])
    response = store.get_response(detail["invitationId"])
    comment = response.comment if response else None
    reasons = escalation_reasons(rule, detail["scores"], keyword_match(rule, comment))
    if not reasons:
        # The rule pattern holds the loosest threshold of all surveys; this survey's is lower.
        return EscalationResult("not-escalated")
    metric, score = next(iter(detail["scores"].items()))
    claimed = store.claim_escalation(
        Escalation(
            detail["invitationId"],
            survey_id=detail["surveyId"],
            metric=metric,
            score=int(score),
            reasons=reasons,
            segment=dict(detail.get("segment", {})),
            status="requested",
            sla_hours=rule.sla_hours,
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=now + timedelta(days=config.retention.escalations),
        )
    )
    if claimed.contact_id:
        if not claimed.announced_at:  # an earlier attempt made the task, then failed
            _announce(detail, str(claimed.contact_id), reasons, rule.sla_hours, config, ports)
        return EscalationResult("already-created", str(claimed.contact_id), reasons)
    zone = survey.time_zone if survey is not None else config.reporting_time_zone
    when = scheduled_time(now, rule.business_hours, zone)
    request = task_request(detail, comment, reasons, config.task_reference_url)
    contact_id = ports.contact_center.start_task(**request, scheduled_time=when)
    counts = Counts(
        f"{detail['surveyId']}#escalations",
        counting_day(now, config.reporting_time_zone),
        dict(detail.get("segment", {})),
        {"created": 1},
    )
    store.record_task(detail["invitationId"], contact_id, now, when, counts)
    _announce(detail, contact_id, reasons, rule.sla_hours, config, ports)
    return EscalationResult("created", contact_id, reasons)


def _announce(
    detail: Mapping[str, Any],
    contact_id: str,
    reasons: list[str],
    sla_hours: int,
    config: EscalateConfig,
    ports: EscalatePorts,
) -> None:
    """Tell the team topic and the bus, then remember it: a retry after a failure here
    announces again (at least once), a retry after success does not."""
    now = config.clock()
    scores = ", ".join(f"{METRIC_LABELS.get(m, m)} {s}" for m, s in detail["scores"].items())
    if ports.notifier is not None:
        ports.notifier.notify(
            f"Callback task: {scores} ({detail['surveyId']})",
            f"{scores} on survey {detail['surveyId']}.\nReasons: {'; '.join(reasons)}\n"
            f"Amazon Connect task: {contact_id}\nSLA: {sla_hours} h",
        )
    ports.bus.put(
        "Survey Escalated",
        {
            "version": "1",
            "invitationId": detail["invitationId"],
            "surveyId": detail["surveyId"],
            "contactId": contact_id,
            "escalatedAt": iso(now),
            "reason": "; ".join(reasons)[:256],
        },
    )
    store.mark_announced(detail["invitationId"], now)


# ---------------------------------------------------------------- closing the loop

# Amazon Connect contact event types that move a task's follow-up, and the moment each sets.
MOMENTS = {
    "CONNECTED_TO_AGENT": "connected_at",
    "DISCONNECTED": "disconnected_at",
    "COMPLETED": "completed_at",
}
FOLLOW_UP_ATTEMPTS = 10


@dataclass(frozen=True)
class ContactEventResult:
    outcome: str  # recorded | ignored | not-ours
    invitation_id: str | None = None
    sla: str | None = None


def _moment_time(detail: Mapping[str, Any], event_time: str) -> datetime:
    """The time the event reports for its moment; the event's own time when it has none."""
    candidates = {
        "CONNECTED_TO_AGENT": (detail.get("agentInfo") or {}).get("connectedToAgentTimestamp"),
        "DISCONNECTED": detail.get("disconnectTimestamp"),
    }
    raw = candidates.get(detail["eventType"]) or event_time
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def _parsed(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def record_contact_event(event: Mapping[str, Any], now: datetime) -> ContactEventResult:
    """An Amazon Connect contact event of a task: keep the earliest time of its moment, then
    derive time to agent and the SLA outcome from what is stored. Events in any order, and
    repeated, end in the same record."""
    detail = event["detail"]
    moment = MOMENTS.get(detail.get("eventType", ""))
    if moment is None:
        return ContactEventResult("ignored")
    escalation = store.escalation_of_contact(str(detail["contactId"]))
    if escalation is None:
        return ContactEventResult("not-ours")  # another task in the same Connect instance
    invitation_id = str(escalation.invitation_id)
    store.record_contact_moment(invitation_id, moment, _moment_time(detail, event["time"]))
    for _ in range(FOLLOW_UP_ATTEMPTS):
        current = store.get_escalation(invitation_id)
        assert current is not None  # escalations are never deleted while their task runs
        escalated_at = _parsed(current.escalated_at) or _parsed(current.created_at)
        assert escalated_at is not None
        outcome = follow_up(
            escalated_at,
            int(current.sla_hours or DEFAULT_SLA_HOURS),
            _parsed(current.connected_at),
            earliest([_parsed(current.disconnected_at), _parsed(current.completed_at)]),
        )
        if store.record_follow_up(
            current,
            seconds_to_agent=outcome.seconds_to_agent,
            done_at=outcome.done_at,
            sla=outcome.sla,
            now=now,
        ):
            return ContactEventResult("recorded", invitation_id, outcome.sla)
    raise RuntimeError("follow-up not recorded: the escalation kept changing")
