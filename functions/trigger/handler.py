"""Trigger: EventBridge rule -> validate the event, decide, start one lifecycle per invitation."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from msgspec.structs import asdict
from survey_core.catalogue import load_catalogue
from survey_core.config import TriggerConfig
from survey_core.dal.gateways import Lifecycle, RejectedEvents, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.events.contracts import INBOUND_DETAIL_TYPES, prepare
from survey_core.logic.trigger import FILTER_REASONS, TriggerPorts, handle_event
from survey_core.observability import logger, metrics, tracer
from survey_core.rules.eligibility import REASONS

CONFIG = TriggerConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
prepare(INBOUND_DETAIL_TYPES)  # every event is validated: at init, not in the first invocation
PORTS = TriggerPorts(
    lifecycle=Lifecycle(client("stepfunctions", CONFIG.region), CONFIG.state_machine_arn),
    rejected=RejectedEvents(client("sqs", CONFIG.region), CONFIG.rejected_events_queue_url),
    repos=REPOS,
)
OUTCOME_METRICS = {
    "started": "SurveysStarted",
    "duplicate": "DuplicateEvents",
    "suppressed": "SurveysSuppressed",
    "rejected": "EventsRejected",
    "no-survey": "EventsWithoutSurvey",
    "filtered": "EventsFiltered",
    "activity": "ActivityRecorded",
}
# Reasons come from fixed lists (docs/catalogue.md), never from data: safe as metric names.
REASON_METRICS = frozenset(REASONS + FILTER_REASONS)


def reason_metric(reason: str) -> str:
    """not-sampled -> EligibilityNotSampled"""
    return "Eligibility" + "".join(part.capitalize() for part in reason.split("-"))


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    decisions = handle_event(event, CONFIG, CATALOGUE, PORTS)
    for decision in decisions:
        # The invitation id correlates the survey's logs from here to its answer.
        logger.set_correlation_id(decision.invitation_id or event.get("id"))
        metrics.add_metric(name=OUTCOME_METRICS[decision.outcome], unit=MetricUnit.Count, value=1)
        if decision.reason in REASON_METRICS:
            metrics.add_metric(name=reason_metric(decision.reason), unit=MetricUnit.Count, value=1)
        logger.info(
            "trigger decision",
            extra={"detail_type": event.get("detail-type"), **asdict(decision)},
        )
    return {"decisions": [asdict(d) for d in decisions]}
