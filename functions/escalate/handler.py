"""Escalate: `Survey Response Received` with a low score or a comment keyword -> an Amazon
Connect callback task; Amazon Connect contact events of those tasks -> the follow-up record
(the same code, deployed as FollowUpFunction with handler.follow_up_handler)."""

import os
from collections import Counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from msgspec.structs import asdict
from survey_core.catalogue import load_catalogue
from survey_core.config import EscalateConfig
from survey_core.dal.gateways import ContactCenter, EventBus, Notifier, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.events.contracts import prepare
from survey_core.logic.escalate import EscalatePorts, escalate
from survey_core.logic.follow_up import record_contact_event
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = EscalateConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
prepare(("Survey Response Received",))  # every answer is validated: at init
PORTS = EscalatePorts(
    contact_center=ContactCenter(
        client("connect", CONFIG.region), CONFIG.connect_instance_id, CONFIG.connect_contact_flow_id
    ),
    bus=EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE),
    responses=REPOS.responses,
    escalations=REPOS.escalations,
    notifier=(
        Notifier(client("sns", CONFIG.region), CONFIG.notification_topic_arn)
        if CONFIG.notification_topic_arn
        else None
    ),
)
OUTCOME_METRICS = {
    "created": "EscalationsCreated",
    "updated": "EscalationTasksUpdated",
    "already-created": "EscalationsDeduplicated",
    "not-escalated": "EscalationsNotNeeded",
}


@logger.inject_lambda_context(correlation_id_path="detail.invitationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Errors raise: Lambda retries the event twice, then it goes to the failed-deliveries
    # queue with the error (the ClientToken makes a retried StartTaskContact the same task).
    result = escalate(event, CONFIG, CATALOGUE, PORTS)
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    logger.info("escalation", extra=asdict(result))
    return asdict(result)


@logger.inject_lambda_context(correlation_id_path="detail.contactId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def follow_up_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An event that is not ours or not understood returns (counted); only AWS errors raise,
    # and those Lambda retries, then sends to the failed-deliveries queue.
    result = record_contact_event(event, CONFIG.clock(), CONFIG.task_expiry_days, REPOS.escalations)
    if result.invitation_id:  # found: correlate with the survey's other logs
        logger.set_correlation_id(result.invitation_id)
    metrics.add_metric(name=f"FollowUp_{result.outcome}", unit=MetricUnit.Count, value=1)
    for reason, count in sorted(Counter(result.refused).items()):
        metrics.add_metric(name=f"FollowUpRefused_{reason}", unit=MetricUnit.Count, value=count)
    if result.sla_decided:
        metrics.add_metric(name=f"FollowUpSla_{result.sla}", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name=f"FollowUpOutcome_{result.follow_up}", unit=MetricUnit.Count, value=1
        )
    detail = event.get("detail")
    event_type = detail.get("eventType") if isinstance(detail, dict) else None
    logger.info(
        "contact event",
        extra={"event_type": event_type if isinstance(event_type, str) else None, **asdict(result)},
    )
    return asdict(result)
