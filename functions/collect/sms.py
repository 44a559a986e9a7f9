"""SMS replies (two-way SMS through an SNS topic), deployed as SmsReplyFunction: a score answers
the customer's latest open survey asked by SMS, a stop word opts the number out, anything else
gets one help reply. Apart from the survey pages (app.py, the same Chalice project), so a reply
does not load the pages' templates and routes."""

import os

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Chalice
from chalice.app import SNSEvent
from collect_requests import count_answer, start_request
from survey_core.catalogue import load_catalogue
from survey_core.config import CollectConfig
from survey_core.dal.gateways import SmsSender, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.logic.replies import InboundSms, InvalidInboundSms, ReplyPorts, handle_reply
from survey_core.observability import logger, metrics

CONFIG = CollectConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
# Made at init, like every function's clients: this module serves nothing but replies (the
# survey pages, which never send an SMS, are app.py).
PORTS = ReplyPorts(
    sms=SmsSender(client("sns", CONFIG.region), CONFIG.sms_origination_identity), repos=REPOS
)
app = Chalice(app_name="survey-sms-reply")


@app.on_sns_message(topic="inbound-sms")
def sms_reply(event: SNSEvent) -> None:
    """One inbound SMS. A message that is not an inbound SMS is logged and dropped with a
    metric (retrying cannot fix it); AWS errors raise, so Lambda retries and then the event
    goes to the failed-deliveries queue."""
    # The SNS message's id until the reply's invitation is known (logic/replies.py).
    start_request(event.to_dict()["Records"][0]["Sns"].get("MessageId"), event.context)
    try:
        _reply(event)
    except Exception as error:
        # The type only: an AWS error's message may quote the number. Lambda retries.
        logger.error("sms reply failed", extra={"error": type(error).__name__})
        raise


def _reply(event: SNSEvent) -> None:
    try:
        sms = InboundSms.from_sns_message(event.message)
    except InvalidInboundSms as invalid:
        logger.error("inbound SMS rejected", extra={"reason": str(invalid)})
        metrics.add_metric(name="SmsReplyRejected", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        return
    result = handle_reply(sms, CONFIG, CATALOGUE, PORTS)
    # The number and the text are personal data: only what happened is logged.
    logger.info(
        "sms reply",
        extra={
            "outcome": result.outcome,
            "reading": result.reading,
            "invitation_id": result.invitation_id,
            "inbound_message_id": sms.inbound_id,
        },
    )
    metrics.add_metric(name=f"SmsReply_{result.outcome}", unit=MetricUnit.Count, value=1)
    if result.answered:
        count_answer(result.answered)
    metrics.flush_metrics()
