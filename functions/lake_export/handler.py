"""Lake export: the streams of the responses, invitations and escalations tables -> rows in the
data lake's S3 bucket (logic/lake_export.py), customers under the stack's keyed pseudonym."""

import functools
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from survey_core.dal.gateways import client
from survey_core.dal.lake import LakeBucket, pseudonym_key
from survey_core.lake.config import LakeExportConfig
from survey_core.lake.rows import LakeContext
from survey_core.logic.lake_export import export_batch
from survey_core.observability import logger, metrics, tracer

CONFIG = LakeExportConfig.from_env(os.environ)
BUCKET = LakeBucket(client("s3", CONFIG.region), CONFIG.bucket)
SECRETS = client("secretsmanager", CONFIG.region)


@functools.cache
def lake_context() -> LakeContext:
    """Read once per sandbox, at the first batch: the key never changes (every pseudonym would).
    Not at import: an import makes no AWS call (a failed read fails the batch, which Lambda
    retries, rather than the sandbox's init)."""
    return LakeContext(
        key=pseudonym_key(SECRETS, CONFIG.key_secret_arn),
        zone=CONFIG.reporting_time_zone,
        export_comments=CONFIG.export_comments,
        entities=CONFIG.entities,
    )


# A batch holds many invitations: its lines carry the first record's event id (no data).
@logger.inject_lambda_context(correlation_id_path="Records[0].eventID", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    result = export_batch(records, lake_context(), BUCKET)
    metrics.add_metric(name="LakeRecords", unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name="LakeRows", unit=MetricUnit.Count, value=result.rows)
    metrics.add_metric(name="LakeObjects", unit=MetricUnit.Count, value=result.objects)
    if result.erasures:
        metrics.add_metric(name="LakeErasures", unit=MetricUnit.Count, value=result.erasures)
    if result.unreadable:
        metrics.add_metric(
            name="LakeUnreadableRecords", unit=MetricUnit.Count, value=len(result.unreadable)
        )
        logger.error("unreadable stream records", extra={"reasons": sorted(set(result.unreadable))})
    summary = {
        "records": len(records),
        "rows": result.tables,
        "objects": result.objects,
        "erasures": result.erasures,
        "rewritten": result.rewritten,
    }
    failures = []
    if result.failed_from is not None:
        # Lambda delivers this record and every later one of the shard again.
        sequence = records[result.failed_from]["dynamodb"]["SequenceNumber"]
        failures.append({"itemIdentifier": sequence})
        metrics.add_metric(name="LakeWriteFailures", unit=MetricUnit.Count, value=1)
        logger.error("lake write failed", extra={**summary, "error": result.error})
    else:
        logger.info("exported", extra=summary)
    return {"batchItemFailures": failures}
