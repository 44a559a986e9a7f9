"""Escalate: `Survey Response Received` with a detractor score -> Amazon Connect callback task."""

import os
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.config import EscalateConfig
from survey_core.dal.gateways import ContactCenter, EventBus, client
from survey_core.dal.models import bind_tables
from survey_core.logic.escalate import EscalatePorts, escalate
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = EscalateConfig.from_env(os.environ)
bind_tables(CONFIG.tables, CONFIG.region)
PORTS = EscalatePorts(
    contact_center=ContactCenter(
        client("connect", CONFIG.region), CONFIG.connect_instance_id, CONFIG.connect_contact_flow_id
    ),
    bus=EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE),
)


@logger.inject_lambda_context(correlation_id_path="detail.invitationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = escalate(event, CONFIG, PORTS)
    name = "EscalationsCreated" if result.outcome == "created" else "EscalationsDeduplicated"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.info("escalation", extra=asdict(result))
    return asdict(result)
