"""Continuous export to the data lake: a batch of stream records of the responses, invitations
and escalations tables becomes rows in the lake's S3 bucket (docs/analytics.md).

Per batch: every INSERT and MODIFY is mapped to its rows (lake/rows.py), the rows are written
as one object per table and partition, named after their content; then every item deleted by
an erasure (a REMOVE that is not a TTL expiry) has its rows rewritten without the customer's
pseudonym and comments. The stream keeps each item's records in order, and a shard's batches
go one after another, so the erasure's rewrite comes after every row of the item was written:
no row written late brings a comment back.

Lambda delivers records at least once. When a write fails, the batch is reported failed from
the first record whose rows (or erasure) are not written: Lambda delivers that record and
every later one again. Rows written twice (a retried or replayed record) are equal rows of one
version, which the named queries read once, and a whole batch written again writes the same
objects under the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from msgspec import Struct, field

from ..dal.lake import LakeBucket
from ..lake.objects import encode, prefix
from ..lake.rows import Erasure, LakeContext, UnreadableRecord, erased
from ..lake.rows import erasure_of_record as _erasures
from ..lake.rows import rows_of_record as _rows


class ExportResult(Struct):
    rows: int = 0
    objects: int = 0
    rewritten: int = 0  # objects rewritten for erasures
    erasures: int = 0  # invitations whose comment and pseudonym were erased
    unreadable: list[str] = field(default_factory=list)  # why, per record (no values)
    tables: dict[str, int] = field(default_factory=dict)  # rows written per lake table
    failed_from: int | None = None  # index of the first record to deliver again
    error: str | None = None  # the failure's type (no message: it may quote a key)


class _Partition(Struct):
    rows: list[dict[str, Any]] = field(default_factory=list)
    first_record: int = 0  # the earliest record of the batch with a row here


def export_batch(
    records: Sequence[Mapping[str, Any]], context: LakeContext, bucket: LakeBucket
) -> ExportResult:
    """Write the batch's rows, then apply its erasures; on a failure, stop and say from which
    record on the batch must be delivered again."""
    result = ExportResult()
    partitions: dict[tuple[str, str], _Partition] = {}
    erasures: list[tuple[int, Erasure]] = []
    for index, record in enumerate(records):
        try:
            rows = _rows(record, context)
            found = _erasures(record, context)
        except UnreadableRecord as unreadable:
            # Retrying cannot fix it, and failing would hold up every later record of the
            # shard: counted and reported by the handler (the reason only), never silent.
            result.unreadable.append(str(unreadable))
            continue
        for row in rows:
            partition = partitions.setdefault((row.table, row.dt), _Partition(first_record=index))
            partition.rows.append(row.row)
        erasures += [(index, erasure) for erasure in found]
    _write(partitions, bucket, result)
    if result.failed_from is None:
        _erase(erasures, bucket, result)
    return result


def _write(
    partitions: Mapping[tuple[str, str], _Partition], bucket: LakeBucket, result: ExportResult
) -> None:
    ordered = sorted(partitions.items(), key=lambda item: item[1].first_record)
    for position, ((table, dt), partition) in enumerate(ordered):
        try:
            bucket.put(encode(table, dt, partition.rows))
        except Exception as error:
            # This partition and the ones after it are not written: deliver again from the
            # earliest record with a row in any of them.
            result.failed_from = min(p.first_record for _, p in ordered[position:])
            result.error = type(error).__name__
            return
        result.objects += 1
        result.rows += len(partition.rows)
        result.tables[table] = result.tables.get(table, 0) + len(partition.rows)


def _erase(
    erasures: Sequence[tuple[int, Erasure]], bucket: LakeBucket, result: ExportResult
) -> None:
    """Rewrite each affected partition once for all its erased invitations, in record order."""
    by_partition: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for index, erasure in erasures:
        first, ids = by_partition.get((erasure.table, erasure.dt), (index, set()))
        by_partition[(erasure.table, erasure.dt)] = (
            min(first, index),
            ids | {erasure.invitation_id},
        )
    result.erasures = len({erasure.invitation_id for _, erasure in erasures})
    ordered = sorted(by_partition.items(), key=lambda item: item[1][0])
    for position, ((table, dt), (_, ids)) in enumerate(ordered):
        try:
            result.rewritten += bucket.rewrite_all(
                prefix(table, dt), partial(erased, table=table, ids=ids)
            )
        except Exception as error:
            result.failed_from = min(first for _, (first, _) in ordered[position:])
            result.error = type(error).__name__
            return
