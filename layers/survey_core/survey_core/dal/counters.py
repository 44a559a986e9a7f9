"""Counter writes on DynamoDB: one item per series, day and combination of segment values,
added to inside the transactions that record what is counted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.counters import Counts, counter_bucket, segment_of
from .models import AggregateCounter


def counter_actions(segment: Mapping[str, Any], add: Mapping[str, int]) -> list[Action]:
    actions: list[Action] = [AggregateCounter.segment.set(segment_of(segment))]
    actions += [AggregateCounter.count_attribute(name).add(n) for name, n in add.items()]
    return actions


def add_counts(transaction: TransactWrite, counts: Counts) -> None:
    transaction.update(
        AggregateCounter(counts.series, counter_bucket(counts.day, counts.segment)),
        actions=counter_actions(counts.segment, counts.add),
    )
