"""The counters repository on DynamoDB (domain/counters.py), in the aggregates table: one item
per series, day and combination of segment values, added to inside the transactions that
record what is counted; and, in the same table, the report log and the recurring survey's
quota."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.counters import (
    COHORT_BATCH,
    CohortQuota,
    Counter,
    Counts,
    counter_bucket,
    segment_of,
)
from ..domain.customers import day_of
from .models import AggregateCounter, Customer
from .writes import conditional_failed, retryable_transaction, transactions


def counter_actions(segment: Mapping[str, Any], add: Mapping[str, int]) -> list[Action]:
    actions: list[Action] = [AggregateCounter.segment.set(segment_of(segment))]
    actions += [AggregateCounter.count_attribute(name).add(n) for name, n in add.items()]
    return actions


def add_counts(transaction: TransactWrite, counts: Counts) -> None:
    transaction.update(
        AggregateCounter(counts.series, counter_bucket(counts.day, counts.segment)),
        actions=counter_actions(counts.segment, counts.add),
    )


# Items of the layout before combinations (buckets "{day}#all", "{day}#businessArea=webshop")
# are not read.
_COMBINATION_BUCKET = re.compile(r"\d{4}-\d{2}-\d{2}#[0-9a-f]{24}")


def _quota_keys(survey_id: str, day: str, run: str) -> tuple[str, str, str]:
    # Under "cohort-quota#<survey>": per local day the customers claimed (bucket "<day>", n),
    # and per run of the cohort job (bucket "<day>#run#<scheduled time>") what that run
    # claimed (n) and has requested and taken out of the cohort (done).
    return f"cohort-quota#{survey_id}", day, f"{day}#run#{run}"


def _region() -> str | None:
    return getattr(AggregateCounter.Meta, "region", None)


class CounterTable:
    def read(self, series: str, first_day: str, last_day: str) -> Iterator[Counter]:
        found = AggregateCounter.query(
            series, AggregateCounter.bucket.between(f"{first_day}#", f"{last_day}#\uffff")
        )
        for item in found:
            if _COMBINATION_BUCKET.fullmatch(str(item.bucket)):
                day = str(item.bucket).split("#", 1)[0]
                yield Counter(day, item.segment_values(), item.all_counts())

    def claim_report(self, group: str, period_first_day: str, period_label: str) -> bool:
        log = AggregateCounter(f"report-log#{group}", f"{period_first_day}#{period_label}", n=1)
        try:
            log.save(condition=AggregateCounter.series.does_not_exist())
        except PutError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def release_report(self, group: str, period_first_day: str, period_label: str) -> None:
        AggregateCounter(f"report-log#{group}", f"{period_first_day}#{period_label}").delete()

    def cohort_quota(self, survey_id: str, day: str, run: str) -> CohortQuota:
        series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
        found = {
            item.bucket: item
            for item in AggregateCounter.batch_get(
                [(series, day_bucket), (series, run_bucket)], consistent_read=True
            )
        }
        used = int(found[day_bucket].n or 0) if day_bucket in found else 0
        mine = found.get(run_bucket)
        owned = int(mine.n or 0) - int(mine.done or 0) if mine is not None else 0
        return CohortQuota(used, owned)

    def claim_cohort_quota(self, survey_id: str, day: str, run: str, count: int, cap: int) -> bool:
        series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
        room = AggregateCounter.n.does_not_exist() | (AggregateCounter.n <= cap - count)
        try:
            with TransactWrite(connection=transactions(_region())) as transaction:
                transaction.update(
                    AggregateCounter(series, day_bucket),
                    actions=[AggregateCounter.n.add(count)],
                    condition=room,
                )
                transaction.update(
                    AggregateCounter(series, run_bucket), actions=[AggregateCounter.n.add(count)]
                )
        except TransactWriteError as error:
            if retryable_transaction(error):
                return False
            raise
        return True

    def release_cohort_quota(self, survey_id: str, day: str, run: str, count: int) -> None:
        if count <= 0:
            return
        series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
        with TransactWrite(connection=transactions(_region())) as transaction:
            for bucket in (day_bucket, run_bucket):
                transaction.update(
                    AggregateCounter(series, bucket), actions=[AggregateCounter.n.add(-count)]
                )

    def mark_requested(
        self, survey_id: str, day: str, run: str, customer_ids: Sequence[str], now: datetime
    ) -> None:
        if not customer_ids:
            return
        if len(customer_ids) > COHORT_BATCH:
            raise ValueError("at most COHORT_BATCH customers at once")
        series, _, run_bucket = _quota_keys(survey_id, day, run)
        with TransactWrite(connection=transactions(_region())) as transaction:
            for customer_id in customer_ids:
                transaction.update(
                    Customer(customer_id), actions=[Customer.cohort_day.set(day_of(now))]
                )
            transaction.update(
                AggregateCounter(series, run_bucket),
                actions=[AggregateCounter.done.add(len(customer_ids))],
            )
