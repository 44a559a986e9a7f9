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
from survey_core.logic.send import SendPorts, SendRequest, send_rung
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = SendConfig.from_env(os.environ)
bind_tables(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
PORTS = SendPorts(
    lifecycle=Lifecycle(client("stepfunctions", CONFIG.region)),
    mailer=Mailer(
        client("sesv2", CONFIG.region),
        CONFIG.sender_email,
        sender_name=CATALOGUE.company,
        configuration_set=CONFIG.email_configuration_set,
    ),
    sms=SmsSender(client("sns", CONFIG.region), CONFIG.sms_origination_identity),
    bus=EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE),
)
# Outcomes come from a fixed list (logic/send.py), never from data: safe as metric names.
OUTCOME_METRICS = {
    "sent": "MessagesSent",
    "repeated": "RepeatedRungInvocations",
    "skipped": "RungsSkipped",
    "closed": "RungsAfterClose",
    "expired": "SurveysExpired",
}


@logger.inject_lambda_context(correlation_id_path="invitationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SendRequest.from_event(event)
    try:
        result = send_rung(request, CONFIG, CATALOGUE, PORTS)
    except Exception as error:
        # Step Functions retries; after the last retry the lifecycle marks the survey failed
        # with this error (ExecutionsFailed). Only the type is counted and logged here.
        metrics.add_metric(name="SendFailures", unit=MetricUnit.Count, value=1)
        logger.warning("rung failed", extra={"rung": request.rung, "error": type(error).__name__})
        raise
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    if not result.announced:
        metrics.add_metric(name="AnnouncementsFailed", unit=MetricUnit.Count, value=1)
        logger.warning("sent, but its Survey Invitation Sent event was refused")
    if result.outcome == "sent":
        metrics.add_metric(name=f"Sent_{result.channel}", unit=MetricUnit.Count, value=1)
        if result.sms_segments:
            metrics.add_metric(name="SmsSegments", unit=MetricUnit.Count, value=result.sms_segments)
    logger.info(
        "rung processed",
        extra={"rung": request.rung, "fallback": request.fallback is not None, **asdict(result)},
    )
    return asdict(result)
