"""The whole loop on the local stack built from template.yaml and the ASL file.

The stack runs in a child process on virtual time: its clock starts on Monday 16 Nov 2026,
09:00 Helsinki time, and stands still until the test advances it; the 24 h reminder delay
passes in one jump, and the handlers' clock shows it as 24 h.
"""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import LocalStackClient, run_tracer, wait_for

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=14400, start_time=START, log_name="e2e.log", virtual_time=True
    ) as info:
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
        "callback followed up",
        "report mailed",
        "bad input handled",
    ]
    # and the Connect task carries the score and the segment for routing
    task = result.facts["task"]["request"]
    assert task["Attributes"]["score"] == "3"
    assert task["Attributes"]["businessArea"] == "webshop"
    assert "Toimitus myöhästyi." in task["Description"]
    # and the agent's follow-up came back from Connect's contact events: done within the SLA
    follow_up = result.facts["follow_up"]
    assert (follow_up["sla"], follow_up["sla_hours"]) == ("met", "48")
    assert follow_up["seconds_to_agent"] == str(2 * 3600)
    # and the report covers the week of the answer; one answer is too few for a figure, so it
    # says so (in the report's language, Finnish) instead of printing "NPS -100"
    report = result.facts["report"]
    assert "16.–22.11.2026" in report["subject"]  # the week, in Finnish date format
    assert "liian vähän vastauksia" in report["body"]
    assert "-100" not in report["body"]


def test_promoter_is_not_escalated(stack: dict[str, Any]) -> None:
    # Given the same loop with a score of 9, Then every stage runs and no task is created
    result = run_tracer(stack, score=9)
    failed = [f"{s.name}: {s.detail}" for s in result.stages if not s.ok]
    assert failed == []
    assert "task" not in result.facts


def test_a_task_connect_keeps_refusing_lands_in_the_dead_letter_queue_with_the_reason(
    stack: dict[str, Any],
) -> None:
    # Given Amazon Connect refuses every StartTaskContact for one response
    local = LocalStackClient(stack)
    invitation_id = uuid.uuid4().hex
    local.control(
        "faults",
        {"service": "connect", "operation": "StartTaskContact", "times": 3,
         "code": "ServiceQuotaExceededException", "status": 429, "match": invitation_id},
    )  # fmt: skip
    # When a detractor's answer is published
    detail = json.loads((EVENTS / "survey-response-received.json").read_text())["detail"]
    detail.update({"invitationId": invitation_id, "scores": {"nps": 2}})
    local.put_event("Survey Response Received", detail, "customer-feedback.surveys")
    # Then after Lambda's two retries the event is in the failed-deliveries queue, with the reason
    sqs = local.client("sqs")
    url = stack["outputs"]["FailedDeliveriesQueueUrl"]

    def dead_letter() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            if (
                body.get("requestPayload", {}).get("detail", {}).get("invitationId")
                == invitation_id
            ):
                return dict(body)
        return None

    record = wait_for("the dead letter", dead_letter, 30)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert "ServiceQuotaExceededException" in json.dumps(record["responsePayload"])
    [fault] = [f for f in local.control("faults") if f["match"] == invitation_id]
    assert fault["injected"] == 3  # each attempt reached Connect once (no SDK retry of this)
