"""Send: invoked by the lifecycle (with a task token) to send one rung of the channel ladder,
and by each survey's expiry schedule when the survey closes."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from msgspec.structs import asdict
from survey_core.catalogue import load_catalogue
from survey_core.config import SendConfig
from survey_core.dal.gateways import (
    EventBus,
    ExpirySchedules,
    Lifecycle,
    Mailer,
    SmsSender,
    client,
)
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.logic.send import (
    SendPorts,
    SendRequest,
    SendResult,
    expire_closed,
    is_scheduled_expiry,
    send_rung,
)
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = SendConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
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
    expiries=ExpirySchedules(
        client("scheduler", CONFIG.region),
        CONFIG.expiry_schedule_group,
        CONFIG.expiry_schedule_role_arn,
        CONFIG.failed_deliveries_queue_arn,
    ),
    repos=REPOS,
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
    if is_scheduled_expiry(event):
        # Scheduler retries a failed run, then leaves it in the failed-deliveries queue.
        result = expire_closed(str(event["invitationId"]), CONFIG, PORTS)
        metrics.add_metric(
            name="SurveysExpired" if result.outcome == "expired" else "ExpiriesAlreadyClosed",
            unit=MetricUnit.Count,
            value=1,
        )
        logger.info("survey closed", extra=asdict(result))
        return asdict(result)
    request = SendRequest.from_event(event, context.invoked_function_arn)
    try:
        result = send_rung(request, CONFIG, CATALOGUE, PORTS)
    except Exception as error:
        # Step Functions retries; after the last retry the lifecycle marks the survey failed
        # with this error (ExecutionsFailed). Only the type is counted and logged here.
        metrics.add_metric(name="SendFailures", unit=MetricUnit.Count, value=1)
        logger.warning("rung failed", extra={"rung": request.rung, "error": type(error).__name__})
        raise
    _count(result)
    if not result.expiry_planned:
        metrics.add_metric(name="ExpiriesNotPlanned", unit=MetricUnit.Count, value=1)
        logger.warning("expiry schedule refused: the survey expires a day after it closes")
    logger.info(
        "rung processed",
        extra={"rung": request.rung, "fallback": request.fallback is not None, **asdict(result)},
    )
    return asdict(result)


def _count(result: SendResult) -> None:
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    if not result.recorded:
        # The message is out; its attempt stays "sending" (counted as sent, never sent again,
        # its survey open). The invitation id is the log's correlation id.
        metrics.add_metric(name="SentNotRecorded", unit=MetricUnit.Count, value=1)
        logger.warning(
            "sent, but recording it failed after retries", extra={"channel": result.channel}
        )
    if not result.announced:
        metrics.add_metric(name="AnnouncementsFailed", unit=MetricUnit.Count, value=1)
        logger.warning("sent, but its Survey Invitation Sent event was refused")
    if result.outcome == "sent":
        metrics.add_metric(name=f"Sent_{result.channel}", unit=MetricUnit.Count, value=1)
        if result.sms_segments:
            metrics.add_metric(name="SmsSegments", unit=MetricUnit.Count, value=result.sms_segments)
