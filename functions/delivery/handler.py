"""Delivery: SES bounces and complaints of survey emails (default bus, aws.ses)."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from msgspec.structs import asdict
from survey_core.catalogue import load_catalogue
from survey_core.config import DeliveryConfig
from survey_core.dal.gateways import Lifecycle, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.logic.delivery import EmailFeedback, handle_feedback
from survey_core.observability import logger, metrics, tracer

CONFIG = DeliveryConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
LIFECYCLE = Lifecycle(client("stepfunctions", CONFIG.region))
# Fixed names (logic/delivery.py), never data.
FEEDBACK_METRICS = {"bounce": "EmailBounces", "complaint": "EmailComplaints"}
OUTCOME_METRICS = {
    "fallback": "SmsFallbacks",
    "failed": "InvitationsUndeliverable",
    "noted": "FeedbackNoted",
    "not-survey": "FeedbackNotForASurvey",
    "closed": "FeedbackAfterClose",
}


@logger.inject_lambda_context(correlation_id_path="detail.mail.tags.invitation[0]")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    feedback = EmailFeedback.from_event(event)
    result = handle_feedback(feedback, CONFIG, CATALOGUE, LIFECYCLE, REPOS)
    metrics.add_metric(name=FEEDBACK_METRICS[feedback.kind], unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    # Addresses are personal data: only the kind, the invitation and what was done are logged.
    logger.info(
        "email feedback",
        extra={
            "kind": feedback.kind,
            "permanent": feedback.permanent,
            "invitation_id": feedback.invitation_id,
            **asdict(result),
        },
    )
    return asdict(result)
