"""Report: fired by EventBridge Scheduler; emails last period's report to the recipients."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.catalogue import load_catalogue
from survey_core.clock import scheduled_time
from survey_core.config import ReportConfig
from survey_core.dal.gateways import Mailer, client
from survey_core.dal.models import bind_tables
from survey_core.logic.report import send_report
from survey_core.observability import logger, metrics, tracer

CONFIG = ReportConfig.from_env(os.environ)
bind_tables(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
MAILER = Mailer(client("sesv2", CONFIG.region), CONFIG.sender_email)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = send_report(scheduled_time(event, CONFIG.clock), CONFIG, CATALOGUE, MAILER)
    metrics.add_metric(name="ReportsSent", unit=MetricUnit.Count, value=1)
    logger.info(
        "report sent",
        extra={
            "period": report["period_label"],
            "rows": len(report["rows"]),
            "empty": report["empty"],
        },
    )
    return {"period": report["period_label"], "rows": len(report["rows"])}
