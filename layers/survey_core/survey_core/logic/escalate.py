"""A low score (or a comment keyword) becomes an Amazon Connect callback task, exactly once per
response; Connect's contact events then record how the team followed it up (follow_up.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from msgspec import Struct, field

from ..catalogue import Catalogue, EscalationRule
from ..clock import iso
from ..config import EscalateConfig
from ..dal.gateways import ContactCenter, EventBus, Notifier
from ..domain.escalations import Escalation, Escalations, task_counts
from ..domain.responses import Response, Responses
from ..events.contracts import validate_detail
from ..messages.safe_text import one_line
from ..rules.escalation import (
    escalation_reasons,
    keyword_match,
    rule_for,
    scheduled_time,
)
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


class EscalatePorts(Struct, frozen=True):
    contact_center: ContactCenter
    bus: EventBus
    responses: Responses
    escalations: Escalations
    notifier: Notifier | None = None


class EscalationResult(Struct, frozen=True):
    outcome: str  # created | updated | already-created | not-escalated
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


def stored_answer(detail: Mapping[str, Any], response: Response | None) -> dict[str, Any]:
    """The event's detail with the answer as stored now (scores, time, channel): the task
    shows the customer's latest answer, whichever revision's event brought it here."""
    if response is None:  # erased since: only the event is left
        return dict(detail)
    return {
        **detail,
        "scores": dict(response.scores),
        "answeredAt": str(response.answered_at),
        "channel": str(response.channel),
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
    response = ports.responses.get(detail["invitationId"])
    current = stored_answer(detail, response)
    comment = response.comment if response else None
    reasons = escalation_reasons(rule, current["scores"], keyword_match(rule, comment))
    if not reasons:
        # The rule pattern holds the loosest threshold of all surveys; this survey's is lower
        # (or the customer has since changed the answer to one that is no reason for a call).
        return EscalationResult("not-escalated")
    metric, score = next(iter(current["scores"].items()))
    claimed = ports.escalations.claim(
        Escalation(
            detail["invitationId"],
            survey_id=detail["surveyId"],
            metric=metric,
            score=int(score),
            reasons=reasons,
            segment=dict(detail.get("segment", {})),
            sla_hours=rule.sla_hours,
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=now + timedelta(days=config.retention.escalations),
        )
    )
    if claimed.contact_id:
        contact_id = claimed.contact_id
        if not claimed.announced_at:  # an earlier attempt made the task, then failed
            _announce(detail, contact_id, reasons, rule.sla_hours, config, ports)
        shown = claimed.task_revision or 1
        if response is not None and int(response.revision) > shown:
            _update_task(detail, contact_id, response, rule, config, ports)
            return EscalationResult("updated", contact_id, reasons)
        return EscalationResult("already-created", contact_id, reasons)
    zone = survey.time_zone if survey is not None else config.reporting_time_zone
    when = scheduled_time(now, rule.business_hours, zone)
    request = task_request(current, comment, reasons, config.task_reference_url)
    contact_id = ports.contact_center.start_task(**request, scheduled_time=when)
    counts = task_counts(
        detail["surveyId"], counting_day(now, config.reporting_time_zone), detail.get("segment", {})
    )
    revision = int(response.revision) if response is not None else None
    ports.escalations.record_task(detail["invitationId"], contact_id, now, when, counts, revision)
    _announce(detail, contact_id, reasons, rule.sla_hours, config, ports)
    return EscalationResult("created", contact_id, reasons)


TASK_UPDATE_ROUNDS = 5


def _update_task(
    detail: Mapping[str, Any],
    contact_id: str,
    response: Response,
    rule: EscalationRule,
    config: EscalateConfig,
    ports: EscalatePorts,
) -> None:
    """The customer changed the answer after the task was made (typically: tapped a score,
    then wrote a comment): UpdateContact gives the agent the answer as stored now. The
    response is read again after each update, so when two revisions' events race, the task
    ends up showing the latest (each caller updates until what it wrote is still current)."""
    for _ in range(TASK_UPDATE_ROUNDS):
        current = stored_answer(detail, response)
        reasons = escalation_reasons(rule, current["scores"], keyword_match(rule, response.comment))
        request = task_request(current, response.comment, reasons, config.task_reference_url)
        ports.contact_center.update_task(
            contact_id,
            name=request["name"],
            description=request["description"],
            references=request["references"],
        )
        ports.escalations.record_task_revision(
            str(detail["invitationId"]), int(response.revision), config.clock()
        )
        latest = ports.responses.get(str(detail["invitationId"]))
        if latest is None or int(latest.revision) == int(response.revision):
            return
        response = latest


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
    ports.escalations.mark_announced(detail["invitationId"], now)
