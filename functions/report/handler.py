"""Report: fired every hour by EventBridge Scheduler; emails the reports of reports.yaml whose
send time has come, each once per period."""

import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from msgspec.structs import asdict
from survey_core.catalogue import load_catalogue
from survey_core.clock import scheduled_time
from survey_core.config import ReportConfig
from survey_core.dal.gateways import Mailer, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.errors import ReportsNotSent
from survey_core.logic.report import send_due_reports
from survey_core.observability import logger, metrics, tracer
from survey_core.report.config import load_groups
from survey_core.report.font import FONT_NAME, use_font

CONFIG = ReportConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
GROUPS = load_groups()
OUTCOME_METRICS = {
    "sent": "ReportsSent",
    "already-sent": "ReportsAlreadySent",
    "failed": "ReportsFailed",
}
MAILER = Mailer(client("sesv2", CONFIG.region), CONFIG.sender_email)
# The chart's font ships with this function (Makefile), not in the shared layer.
use_font(Path(__file__).with_name("fonts") / FONT_NAME)


# A run is known by its scheduled time (a retried run keeps it).
@logger.inject_lambda_context(correlation_id_path="scheduledTime")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    when = scheduled_time(event, CONFIG.clock)
    reports = send_due_reports(when, CATALOGUE, GROUPS, MAILER, REPOS)
    for report in reports:
        metrics.add_metric(name=OUTCOME_METRICS[report.outcome], unit=MetricUnit.Count, value=1)
        # Group names, periods and error types only: the recipients' addresses are not logged.
        logger.info("report", extra=asdict(report))
    failed = [report for report in reports if report.outcome == "failed"]
    if failed:
        # Lambda retries the run, then the failed-deliveries queue keeps its scheduled time;
        # the reports that went keep their claims and are not sent again.
        raise ReportsNotSent([r.group for r in failed], {str(r.error) for r in failed})
    return {"scheduledTime": when.isoformat(), "reports": [asdict(r) for r in reports]}
