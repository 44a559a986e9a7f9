"""Outbox: the responses table's stream -> what each stored answer implies (logic/outbox.py):
the lifecycle's wait ends and Survey Response Received is published, at least once each."""

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.catalogue import load_catalogue
from survey_core.config import OutboxConfig
from survey_core.dal.gateways import EventBus, Lifecycle, client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.dal.responses import response_from_image
from survey_core.logic.outbox import OutboxPorts, UnreadableRecord, carry_out, revision_of
from survey_core.observability import logger, metrics, tracer

SOURCE = "customer-feedback.surveys"
CONFIG = OutboxConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
PORTS = OutboxPorts(
    lifecycle=Lifecycle(client("stepfunctions", CONFIG.region)),
    bus=EventBus(client("events", CONFIG.region), CONFIG.event_bus_name, SOURCE),
    invitations=REPOS.invitations,
)


def _invitation_id(record: dict[str, Any]) -> str | None:
    keys = record.get("dynamodb", {}).get("Keys", {})
    value = keys.get("invitation_id", {}).get("S")
    return str(value) if value else None


def record_handler(record: dict[str, Any]) -> None:
    # Per record, before anything can log: a batch holds several invitations.
    logger.set_correlation_id(_invitation_id(record))
    try:
        revision = revision_of(record, response_from_image)
    except UnreadableRecord as unreadable:
        # Retrying cannot fix it, and raising would hold up every later answer of the shard:
        # counted and logged (keys and the reason only), never silent.
        metrics.add_metric(name="OutboxUnreadableRecords", unit=MetricUnit.Count, value=1)
        logger.error("unreadable stream record", extra={"reason": str(unreadable)})
        return
    if revision is None:
        metrics.add_metric(name="OutboxRecordsWithoutRevision", unit=MetricUnit.Count, value=1)
        return
    result = carry_out(revision, CATALOGUE, PORTS)
    metrics.add_metric(name="AnswersPublished", unit=MetricUnit.Count, value=1)
    if result.lifecycle is not None:  # ended | no-longer-waiting | not-waiting | erased
        name = "LifecycleWait_" + result.lifecycle.replace("-", "_")
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.info(
        "answer carried out",
        extra={"revision": result.revision, "lifecycle": result.lifecycle},
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    for record in event.get("Records") or []:
        try:
            record_handler(record)
        except Exception as error:
            # Reported by its sequence number: Lambda delivers this record and every later one
            # of the shard again, so nothing behind a failure is skipped or carried out first.
            metrics.add_metric(name="OutboxRecordFailures", unit=MetricUnit.Count, value=1)
            # The type only: a message may quote a key.
            logger.error("record failed", extra={"error": type(error).__name__})
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
