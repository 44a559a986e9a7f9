"""DynamoDB stream -> Lambda event source mappings, run the way Lambda runs them.

moto hands every stream record of a table with a mapping to `send_dynamodb_items` while it
still holds the write (and the adapter's DynamoDB lock): invoking the function there would
deadlock on its own DynamoDB calls. So records are only queued there, and one worker per
mapping delivers them, in order, as Lambda's poller does:

- FilterCriteria applied first (Lambda's filtering uses EventBridge pattern syntax; moto's
  matcher is reused), filtered records never reach the function;
- batches of at most BatchSize, in stream order;
- with ReportBatchItemFailures, the batch is retried from the first failed record (and every
  record after it); a function error retries the whole batch;
- retries until MaximumRetryAttempts (-1: until the stack stops), then the batch's
  description goes to the OnFailure destination, as Lambda sends it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .patching import patch

RETRY_DELAY_SECONDS = 0.2  # real time between retries of a failing batch
# moto numbers a record by its place in the shard's list of undelivered records, which it
# clears after every write: every record of a table got the same SequenceNumber. DynamoDB's
# grow along the shard, and a reported failure names its record by it.
_sequence_lock = threading.Lock()
_places = itertools.count(1)


@dataclass
class StreamMapping:
    """One event source mapping: its settings and the records waiting for it."""

    function_arn: str
    source_arn: str
    batch_size: int
    filters: list[Any]  # moto EventPattern objects; empty: every record
    report_item_failures: bool
    max_retries: int  # -1: no limit
    on_failure_arn: str | None
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    in_flight: int = 0  # records taken from the queue and not yet done with

    def wanted(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(p.matches_event(record) for p in self.filters)


Invoke = Callable[[str, dict[str, Any]], tuple[Any, bool]]  # function ARN, event -> result
SendToQueue = Callable[[str, dict[str, Any]], None]


class StreamDelivery:
    def __init__(self, invoke: Invoke, send_to_queue: SendToQueue) -> None:
        self._invoke = invoke
        self._send_to_queue = send_to_queue
        self._mappings: dict[tuple[str, str], StreamMapping] = {}
        self._lock = threading.Condition()
        self._stopped = False
        self._workers: list[threading.Thread] = []

    # ------------------------------------------------------------ fed by moto
    def mapping_for(self, esm: Any) -> StreamMapping:
        """The mapping of a moto EventSourceMapping, made (and its worker started) once."""
        from moto.events.models import EventPattern

        key = (esm.function_arn, esm.event_source_arn)
        with self._lock:
            mapping = self._mappings.get(key)
            if mapping is None:
                filters = (esm.filter_criteria or {}).get("Filters") or []
                mapping = StreamMapping(
                    function_arn=esm.function_arn,
                    source_arn=esm.event_source_arn,
                    batch_size=int(esm.batch_size or 100),
                    filters=[EventPattern.load(f["Pattern"]) for f in filters],
                    report_item_failures="ReportBatchItemFailures"
                    in (esm.function_response_types or []),
                    max_retries=int(
                        esm.max_retry_attempts if esm.max_retry_attempts is not None else -1
                    ),
                    on_failure_arn=((esm.destination_config or {}).get("OnFailure") or {}).get(
                        "Destination"
                    ),
                )
                self._mappings[key] = mapping
                worker = threading.Thread(
                    target=self._run, args=(mapping,), daemon=True, name="stream-delivery"
                )
                self._workers.append(worker)
                worker.start()
            return mapping

    def enqueue(self, esm: Any, records: list[dict[str, Any]]) -> None:
        """Called inside moto's write: queue only, never invoke here."""
        mapping = self.mapping_for(esm)
        with self._lock:
            mapping.queue.extend(r for r in records if mapping.wanted(r))
            self._lock.notify_all()

    # ------------------------------------------------------------ state
    def pending(self) -> int:
        """Records queued or being delivered, over all mappings."""
        with self._lock:
            return sum(len(m.queue) + m.in_flight for m in self._mappings.values())

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    # ------------------------------------------------------------ the poller
    def _take(self, mapping: StreamMapping) -> list[dict[str, Any]] | None:
        with self._lock:
            while not mapping.queue and not self._stopped:
                self._lock.wait()
            if self._stopped:
                return None
            size = min(mapping.batch_size, len(mapping.queue))
            batch = [mapping.queue.popleft() for _ in range(size)]
            mapping.in_flight = len(batch)
            return batch

    def _run(self, mapping: StreamMapping) -> None:
        while (batch := self._take(mapping)) is not None:
            try:
                self._deliver(mapping, batch)
            finally:
                with self._lock:
                    mapping.in_flight = 0
                    self._lock.notify_all()

    def _deliver(self, mapping: StreamMapping, batch: list[dict[str, Any]]) -> None:
        attempts = 0
        while batch and not self._stopped:
            result, errored = self._invoke(mapping.function_arn, {"Records": batch})
            failed_from = _first_failure(batch, result, errored, mapping.report_item_failures)
            if failed_from is None:
                return
            batch = batch[failed_from:]
            attempts += 1
            if 0 <= mapping.max_retries < attempts:
                self._give_up(mapping, batch, attempts)
                return
            time.sleep(RETRY_DELAY_SECONDS)

    def _give_up(self, mapping: StreamMapping, batch: list[dict[str, Any]], attempts: int) -> None:
        """Lambda sends the batch's description (not its records) to OnFailure."""
        if not mapping.on_failure_arn:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        self._send_to_queue(
            mapping.on_failure_arn,
            {
                "requestContext": {
                    "functionArn": mapping.function_arn,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": attempts,
                },
                "timestamp": datetime.now(UTC).isoformat(),
                "DDBStreamBatchInfo": {
                    "shardId": "shardId-local",
                    "startSequenceNumber": first.get("SequenceNumber"),
                    "endSequenceNumber": last.get("SequenceNumber"),
                    "batchSize": len(batch),
                    "streamArn": mapping.source_arn,
                },
            },
        )


def _first_failure(
    batch: list[dict[str, Any]], result: Any, errored: bool, report_item_failures: bool
) -> int | None:
    """Index of the first record to deliver again; None when the batch succeeded."""
    if errored:
        return 0
    if not report_item_failures or not isinstance(result, dict):
        return None
    failed = {
        str(item.get("itemIdentifier"))
        for item in result.get("batchItemFailures") or []
        if isinstance(item, dict)
    }
    if not failed:
        return None
    for index, record in enumerate(batch):
        if str(record["dynamodb"].get("SequenceNumber")) in failed:
            return index
    return 0  # an identifier that is no record of the batch: Lambda retries the whole batch


def records_of(items: list[Any], region: str, source_arn: str) -> list[dict[str, Any]]:
    """moto's StreamRecords as Lambda passes them (moto's own send_dynamodb_items shape)."""
    from moto.core.utils import unix_time

    records = []
    for item in items:
        record = item.to_json()
        dynamodb = dict(record["dynamodb"])
        dynamodb["SequenceNumber"] = _sequence_number(item, int(dynamodb["SequenceNumber"]))
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = unix_time(created)
        records.append(
            json.loads(
                json.dumps(
                    {
                        "eventID": record["eventID"],
                        "eventName": record["eventName"],
                        "eventVersion": record["eventVersion"],
                        "eventSource": record["eventSource"],
                        "awsRegion": region,
                        "dynamodb": dynamodb,
                        "eventSourceARN": source_arn,
                    },
                    default=str,
                )
            )
        )
    return records


def _sequence_number(item: Any, moto_number: int) -> str:
    """One number per stream record, the same for every mapping of its table, growing with
    each record: moto's first number plus the record's place in this process's streams."""
    with _sequence_lock:
        place = getattr(item, "local_place", None)
        if place is None:
            place = item.local_place = next(_places)
    return str(moto_number + place)


def queue_stream_records(on_records: Callable[[Any, list[dict[str, Any]]], None]) -> None:
    """moto's LambdaBackend.send_dynamodb_items hands the records to on_records(esm, records)
    instead of invoking (moto clears the shard's items when this returns a truthy value)."""
    from moto.awslambda.models import LambdaBackend

    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> str:
        for esm in list(self._event_source_mappings.values()):
            ours = esm.function_arn == function_arn and esm.event_source_arn == source
            if ours and esm.enabled:
                on_records(esm, records_of(items, self.region_name, source))
        return "queued"

    patch(LambdaBackend, "send_dynamodb_items", send_dynamodb_items)
