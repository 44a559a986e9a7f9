"""A detractor's response becomes an Amazon Connect callback task, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..clock import iso
from ..config import EscalateConfig
from ..contracts import validate_detail
from ..dal import store
from ..dal.gateways import ContactCenter, EventBus
from ..dal.models import Escalation

SEGMENT_LABELS = {
    "businessArea": "Business area",
    "touchpoint": "Touchpoint",
    "interactionChannel": "Interaction channel",
    "agentId": "Agent",
    "productId": "Product",
    "storeId": "Store",
}
METRIC_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
MAX_DESCRIPTION = 4096


@dataclass(frozen=True)
class EscalatePorts:
    contact_center: ContactCenter
    bus: EventBus


@dataclass(frozen=True)
class EscalationResult:
    outcome: str  # created | already-created
    contact_id: str


def task_request(detail: dict[str, Any], comment: str | None) -> dict[str, Any]:
    """Name, description and routing attributes of the callback task (pure, tested)."""
    metric, score = next(iter(detail["scores"].items()))
    label = METRIC_LABELS.get(metric, metric.upper())
    segment = detail.get("segment", {})
    lines = [f"{label} {score} on survey {detail['surveyId']}, answered {detail['answeredAt']}."]
    lines += [f"{SEGMENT_LABELS.get(k, k)}: {v}" for k, v in sorted(segment.items())]
    lines.append(f"Comment: {comment}" if comment else "No comment.")
    lines.append(f"Customer: {detail['customerId']}. Invitation: {detail['invitationId']}.")
    attributes = {
        "surveyId": detail["surveyId"],
        "invitationId": detail["invitationId"],
        "customerId": detail["customerId"],
        "metric": metric,
        "score": str(score),
        **{k: str(v) for k, v in segment.items()},
    }
    return {
        "name": f"Callback: {label} {score} ({detail['surveyId']})"[:512],
        "description": "\n".join(lines)[:MAX_DESCRIPTION],
        "attributes": attributes,
        # Connect keeps a ClientToken for 7 days: a retried event gets the same task.
        "client_token": f"escalation-{detail['invitationId']}",
    }


def escalate(
    event: dict[str, Any], config: EscalateConfig, ports: EscalatePorts
) -> EscalationResult:
    detail = event["detail"]
    validate_detail("Survey Response Received", detail)
    now = config.clock()
    metric, score = next(iter(detail["scores"].items()))
    claimed = store.claim_escalation(
        Escalation(
            detail["invitationId"],
            survey_id=detail["surveyId"],
            metric=metric,
            score=int(score),
            status="requested",
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=now + timedelta(days=config.retention_days),
        )
    )
    if claimed.contact_id:
        return EscalationResult("already-created", claimed.contact_id)
    response = store.get_response(detail["invitationId"])
    request = task_request(detail, response.comment if response else None)
    contact_id = ports.contact_center.start_task(**request)
    store.record_task(detail["invitationId"], contact_id, now)
    ports.bus.put(
        "Survey Escalated",
        {
            "version": "1",
            "invitationId": detail["invitationId"],
            "surveyId": detail["surveyId"],
            "contactId": contact_id,
            "escalatedAt": iso(now),
            "reason": f"{metric} {score}",
        },
    )
    return EscalationResult("created", contact_id)
