"""Send: invoked by the lifecycle (with a task token) to send one rung of the channel ladder."""

import os
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.catalogue import load_catalogue
from survey_core.config import SendConfig
from survey_core.dal.gateways import EventBus, Lifecycle, Mailer, SmsSender, client
from survey_core.dal.models import bind_tables
from survey_core.logic.send import SendPorts, send_rung
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = SendConfig.from_env(os.environ)
bind_tables(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
PORTS = SendPorts(
    lifecycle=Lifecycle(client("stepfunctions", CONFIG.region)),
    mailer=Mailer(client("sesv2", CONFIG.region), CONFIG.sender_email),
    sms=SmsSender(client("sns", CONFIG.region), CONFIG.sms_origination_identity),
    bus=EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE),
)


@logger.inject_lambda_context(correlation_id_path="invitationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = send_rung(
        event["invitationId"], int(event["rung"]), event["taskToken"], CONFIG, CATALOGUE, PORTS
    )
    if result.outcome == "sent":
        metrics.add_metric(name=f"Sent_{result.channel}", unit=MetricUnit.Count, value=1)
    logger.info("rung processed", extra={"rung": event["rung"], **asdict(result)})
    return asdict(result)
