"""What the survey pages (app.py) and the SMS replies (sms.py) both do: start each request
(its ids on every log line) and count the answers."""

from aws_lambda_powertools.metrics import MetricUnit
from survey_core.logic.answers import Answered
from survey_core.observability import correlate, logger, metrics


def start_request(correlation_id: str | None, lambda_context: object) -> None:
    """First thing in every request and SMS: this request's ids on every log line. The logger
    outlives the request in a warm sandbox; without this, a line logged before the survey is
    known would carry the previous request's id. The use cases replace the correlation id with
    the invitation id once they know it (observability.correlate)."""
    correlate(correlation_id)
    logger.append_keys(function_request_id=getattr(lambda_context, "aws_request_id", None))


def count_answer(answered: Answered) -> None:
    """Answers, per channel, and detractors (answers the escalation rule turns into tasks).
    A changed answer is counted apart, so Answers stays one per invitation."""
    if answered.first_answer:
        metrics.add_metric(name="Answers", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"Answers_{answered.channel}", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="AnswersChanged", unit=MetricUnit.Count, value=1)
    if answered.detractor:
        metrics.add_metric(name="Detractors", unit=MetricUnit.Count, value=1)
