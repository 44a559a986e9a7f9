"""The whole loop on the local stack built from template.yaml and the ASL file.

The stack runs in a child process with a controlled clock: it starts on Monday 16 Nov 2026,
09:00 Helsinki time, and waits run 14,400 times faster, so the 24 h reminder delay passes in
6 s and the handlers' clock shows it as 24 h.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import run_tracer

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(time_scale=14400, start_time=START, log_name="e2e.log") as info:
        yield info


def test_tracer_path_runs_every_stage(stack: dict[str, Any]) -> None:
    # Given the local stack, When one purchase goes through the loop and the customer answers 3
    result = run_tracer(stack, score=3)
    # Then every stage succeeded, in order
    failed = [f"{s.name}: {s.detail}" for s in result.stages if not s.ok]
    assert failed == []
    assert [s.name for s in result.stages] == [
        "event put on the bus",
        "invitation email sent",
        "SMS reminder sent",
        "customer answered",
        "answer stored",
        "lifecycle ended",
        "callback task decided",
        "report mailed",
        "bad input handled",
    ]
    # and the Connect task carries the score and the segment for routing
    task = result.facts["task"]["request"]
    assert task["Attributes"]["score"] == "3"
    assert task["Attributes"]["businessArea"] == "webshop"
    assert "Toimitus myöhästyi." in task["Description"]
    # and the report covers the week of the answer with its NPS (-100: one detractor)
    report = result.facts["report"]
    assert "2026-11-16" in report["subject"]
    assert "-100.0" in report["body"]


def test_promoter_is_not_escalated(stack: dict[str, Any]) -> None:
    # Given the same loop with a score of 9, Then every stage runs and no task is created
    result = run_tracer(stack, score=9)
    failed = [f"{s.name}: {s.detail}" for s in result.stages if not s.ok]
    assert failed == []
    assert "task" not in result.facts
