"""The repositories of both kinds for the contract suites (test_*_contracts.py): one test runs
on the in-memory fakes the unit tests use (tests/repositories.py) and on DynamoDB (the
template's tables in moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from survey_core.config import Tables
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.domain.counters import Counts, counter_bucket
from survey_core.domain.repositories import Repositories

from tests.conftest import REGION, Deployment
from tests.repositories import MemoryCounters, memory_repositories


@dataclass(frozen=True)
class Stored:
    """The repositories, and what a counter holds now (its non-zero counts)."""

    repos: Repositories
    counted: Callable[[Counts], dict[str, int]]


@pytest.fixture(params=["memory", "dynamodb"])
def stored(request: pytest.FixtureRequest) -> Iterator[Stored]:
    if request.param == "memory":
        repos = memory_repositories()
        assert isinstance(repos.counters, MemoryCounters)
        added = repos.counters.added

        def in_memory(counts: Counts) -> dict[str, int]:
            counter = added.get((counts.series, counter_bucket(counts.day, counts.segment)), {})
            return {name: n for name, n in counter.items() if n}

        yield Stored(repos, in_memory)
        return
    from survey_core.dal.models import AggregateCounter

    def in_table(counts: Counts) -> dict[str, int]:
        bucket = counter_bucket(counts.day, counts.segment)
        try:
            return AggregateCounter.get(counts.series, bucket, consistent_read=True).all_counts()
        except AggregateCounter.DoesNotExist:
            return {}

    yield Stored(_on_dynamodb(request), in_table)


@pytest.fixture(params=["memory", "dynamodb"])
def repos(request: pytest.FixtureRequest) -> Repositories:
    return memory_repositories() if request.param == "memory" else _on_dynamodb(request)


def _on_dynamodb(request: pytest.FixtureRequest) -> Repositories:
    deployment: Deployment = request.getfixturevalue("deployment")
    tables = Tables(
        customers=deployment.physical_id("CustomersTable"),
        invitations=deployment.physical_id("InvitationsTable"),
        responses=deployment.physical_id("ResponsesTable"),
        aggregates=deployment.physical_id("AggregatesTable"),
        escalations=deployment.physical_id("EscalationsTable"),
        suppressions=deployment.physical_id("SuppressionsTable"),
    )
    return dynamodb_repositories(tables, REGION)
