"""The recurring survey's daily cap holds per day in the survey's time zone, across runs of
the cohort job and their retries (the quota in the aggregates table, dal/counters.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from msgspec.structs import replace

from tests.conftest import Deployment
from tests.integration.helpers import AwsCalls, lambda_context
from tests.integration.test_trigger_rules import NOW, _activity, _decide, _trigger

pytestmark = pytest.mark.integration

CAP = 2
CUSTOMERS = 5
MORNING = datetime(2026, 11, 16, 5, 30, tzinfo=UTC)  # 07:30 in Helsinki


@pytest.fixture
def cohort(deployment: Deployment) -> None:
    """Five customers first seen 100 days ago and never surveyed: all in the cohort."""
    when = NOW - timedelta(days=100)
    for n in range(CUSTOMERS):
        _decide(_trigger(deployment, when), _activity(f"cust-old-{n}", when))


def _cohorts(deployment: Deployment, when: datetime) -> ModuleType:
    """The cohort job with the relationship survey's daily cap set to CAP."""
    module = deployment.load("CohortsFunction", LOCAL_CLOCK=f"{when.isoformat()}|0|0")
    catalogue = module.CATALOGUE
    module.CATALOGUE = replace(
        catalogue,
        surveys=tuple(
            replace(s, recurring=replace(s.recurring, daily_cap=CAP)) if s.recurring else s
            for s in catalogue.surveys
        ),
    )
    return module


def _run(module: ModuleType, when: datetime) -> dict[str, Any]:
    result: dict[str, Any] = module.lambda_handler(
        {"scheduledTime": when.isoformat()}, lambda_context()
    )
    return result


def _requested(deployment: Deployment) -> list[str]:
    """The request ids of every Survey Requested put so far."""
    return [
        e["detail"]["requestId"]
        for _, e in deployment.deliveries
        if e["detail-type"] == "Survey Requested"
    ]


def _claimed(deployment: Deployment, day: str) -> int | None:
    item = (
        deployment.client("dynamodb")
        .get_item(
            TableName=deployment.physical_id("AggregatesTable"),
            Key={"series": {"S": "cohort-quota#relationship"}, "bucket": {"S": day}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return None if item is None else int(item["n"]["N"])


@pytest.mark.usefixtures("cohort")
def test_two_runs_on_one_local_day_request_at_most_the_daily_cap(deployment: Deployment) -> None:
    # Given the job run in the morning (it requests the cap)
    assert _run(_cohorts(deployment, MORNING), MORNING)["requested"] == CAP
    # When it runs again the same day (a manual run)
    noon = MORNING + timedelta(hours=6)
    again = _run(_cohorts(deployment, noon), noon)
    # Then nobody more is requested that day: the cap is the day's, not the run's
    assert again["requested"] == 0
    assert len(_requested(deployment)) == CAP
    assert _claimed(deployment, "2026-11-16") == CAP
    # And the next day has its own cap
    tomorrow = MORNING + timedelta(days=1)
    assert _run(_cohorts(deployment, tomorrow), tomorrow)["requested"] == CAP


@pytest.mark.usefixtures("cohort")
def test_a_run_just_after_midnight_in_helsinki_counts_toward_that_local_day(
    deployment: Deployment,
) -> None:
    # Given a run at 22:30 UTC on the 15th: 00:30 on the 16th in the survey's time zone
    late = datetime(2026, 11, 15, 22, 30, tzinfo=UTC)
    assert _run(_cohorts(deployment, late), late)["requested"] == CAP
    assert all(":2026-11-16:" in r for r in _requested(deployment))
    # When the job runs in the morning of the 16th (a new UTC day, the same local day)
    result = _run(_cohorts(deployment, MORNING), MORNING)
    # Then the local day's cap is already used
    assert result["requested"] == 0
    assert _claimed(deployment, "2026-11-16") == CAP
    assert _claimed(deployment, "2026-11-15") is None


@pytest.mark.usefixtures("cohort")
def test_a_failed_put_events_gives_the_claim_back(deployment: Deployment) -> None:
    # Given EventBridge failing the run's PutEvents call
    module = _cohorts(deployment, MORNING)
    AwsCalls(module.BUS._events, "PutEvents").fail_next("InternalException", 500)
    # When the job runs
    with pytest.raises(Exception, match="InternalException"):
        _run(module, MORNING)
    # Then nothing is requested and the claim is given back: the day is not lost
    assert _requested(deployment) == []
    assert _claimed(deployment, "2026-11-16") == 0
    # And the retried run requests the cap
    assert _run(_cohorts(deployment, MORNING), MORNING)["requested"] == CAP
    assert _claimed(deployment, "2026-11-16") == CAP


@pytest.mark.usefixtures("cohort")
def test_a_run_retried_after_its_claim_finishes_it_and_claims_nothing_twice(
    deployment: Deployment,
) -> None:
    # Given a run that put its events and then failed before taking the customers out of the
    # cohort (a DynamoDB error), and could not give its claim back either
    module = _cohorts(deployment, MORNING)
    counters = module.REPOS.counters  # the function's own

    def unavailable(*_: Any, **__: Any) -> None:
        raise RuntimeError("DynamoDB unavailable")

    counters.mark_requested = counters.release_cohort_quota = unavailable
    with pytest.raises(RuntimeError):
        _run(module, MORNING)
    first = _requested(deployment)
    assert len(first) == CAP
    # When Lambda retries the run (the same scheduled time)
    retried = _run(_cohorts(deployment, MORNING), MORNING)
    # Then it requests the customers of its own claim again (the trigger drops the repeated
    # request ids) and claims no more: the day's cap holds, and none of it is lost
    assert retried["requested"] == CAP
    assert _requested(deployment)[CAP:] == first
    assert _claimed(deployment, "2026-11-16") == CAP
    # and those customers are out of the cohort now: a later run that day requests nobody
    noon = MORNING + timedelta(hours=6)
    assert _run(_cohorts(deployment, noon), noon)["requested"] == 0
