"""Cohorts: fired daily by EventBridge Scheduler; emits Customer Inactive events for customers
who went quiet and Survey Requested events for the recurring survey's daily cohort."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.catalogue import load_catalogue
from survey_core.clock import scheduled_time
from survey_core.config import CohortsConfig
from survey_core.dal.gateways import EventBus, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.logic.cohorts import SOURCE, run_daily
from survey_core.observability import logger, metrics, tracer

CONFIG = CohortsConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
BUS = EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE)


# A run is known by its scheduled time (a retried run keeps it).
@logger.inject_lambda_context(correlation_id_path="scheduledTime")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Customers older than their retention are gone, so no cohort reaches further back.
    retention_days = CONFIG.retention.customers
    summary = run_daily(scheduled_time(event, CONFIG.clock), CATALOGUE, BUS, REPOS, retention_days)
    inactive = sum(summary.inactive.values())
    requested = sum(summary.requested.values())
    metrics.add_metric(name="InactiveCustomersFound", unit=MetricUnit.Count, value=inactive)
    metrics.add_metric(name="RecurringSurveysRequested", unit=MetricUnit.Count, value=requested)
    logger.info(
        "cohorts emitted",
        extra={"inactive": summary.inactive, "requested": summary.requested},
    )
    return {"inactive": inactive, "requested": requested}
