"""What the survey pages (app.py) and the SMS replies (sms.py) both count: the answer metrics."""

from aws_lambda_powertools.metrics import MetricUnit
from survey_core.logic.answers import Answered
from survey_core.observability import metrics


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
