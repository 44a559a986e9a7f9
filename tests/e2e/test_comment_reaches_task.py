"""A detractor taps a score, gets a callback task, then writes a comment: on the local stack,
the same Amazon Connect task is updated (UpdateContact) and carries the comment."""

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import TracerScenario, http

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki: inside business hours
# Virtual time: the clock stands still after the invitation, so the reminder stays away.
TIME_SCALE = 600  # retry intervals and the SDK's backoff, still in real time


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=TIME_SCALE, start_time=START, log_name="comment.log", virtual_time=True
    ) as info:
        yield info


def test_a_comment_after_the_tap_reaches_the_agent_on_the_same_task(
    stack: dict[str, Any],
) -> None:
    # Given a customer with the link from their invitation email
    scenario = TracerScenario(stack, score=2)
    scenario.put_purchase()
    scenario.invitation_email()

    def tasks() -> list[dict[str, Any]]:
        return list(scenario.stack.control("connect/tasks"))

    # When they send a 2 without a comment
    assert http("POST", scenario.link, {"score": "2"})[0] == 200
    # Then a callback task is made (from the stored answer, through the stream and the bus)
    [task] = scenario.stack.until("the callback task", lambda: tasks() or None, hours=0)
    assert "No comment." in task["request"]["Description"]
    # When they come back and add a comment
    comment = "Paketti tuli rikki, kukaan ei ole soittanut"
    assert http("POST", scenario.link, {"score": "2", "comment": comment})[0] == 200
    # Then the same task (no second one) now carries the comment for the agent
    updated = scenario.stack.until(
        "the task to carry the comment",
        lambda: [t for t in tasks() if comment in t["request"]["Description"]] or None,
        hours=0,
    )
    assert [t["ContactId"] for t in updated] == [task["ContactId"]]
    assert len(tasks()) == 1
    assert len(updated[0]["updates"]) == 1
