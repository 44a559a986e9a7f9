"""Twenty answers to one invitation at the same moment, on the local stack.

Chalice's local server answers each request on its own thread and the handlers share one
moto server, so the answers race for real: each reads the response, the losers' transactions
fail on the revision condition and are recomputed. One response must remain, counted once.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import TracerScenario, http
from tests.integration.helpers import counted_vs_stored, summed

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki
WRITERS = 20
# The test asserts that no reminder went out: on virtual time the stack's clock stands still
# while the answers arrive, so the 24 h reminder cannot come first however loaded the machine
# (on a scaled clock at 14400x it was 6 s away, and a CI run once reached it).
TIME_SCALE = 600  # retry intervals and the SDK's backoff, still in real time


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=TIME_SCALE, start_time=START, log_name="answers.log", virtual_time=True
    ) as info:
        yield info


def test_twenty_concurrent_submits_leave_one_response_counted_once(
    stack: dict[str, Any],
) -> None:
    # Given a customer with the link from their invitation email
    scenario = TracerScenario(stack, score=9)
    scenario.put_purchase()
    scenario.invitation_email()
    forms = [{"score": str(n % 11), "comment": f"vastaus {n}"} for n in range(WRITERS)]
    # When twenty submits of different scores arrive at once
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = list(pool.map(lambda form: http("POST", scenario.link, form)[0], forms))
    # Then every one was answered with the thank-you page
    assert statuses == [200] * WRITERS
    # and one response holds the last write, at revision 20, one score and its own comment
    dynamodb = scenario.stack.client("dynamodb")
    responses_table = scenario.stack.physical_id("ResponsesTable")
    [response] = dynamodb.scan(TableName=responses_table, ConsistentRead=True)["Items"]
    assert response["revision"]["N"] == str(WRITERS)
    score = int(response["scores"]["M"]["nps"]["N"])
    assert {"score": str(score), "comment": response["comment"]["S"]} in forms
    # and the counters equal a recount of the stored response: n = 1, at its score
    counted, expected = counted_vs_stored(
        dynamodb, responses_table, scenario.stack.physical_id("AggregatesTable")
    )
    assert counted == expected
    overall = summed(counted)
    assert overall == {"n": 1, f"s{score}": 1}
    # and the lifecycle was told: it ended at the answer, before any reminder
    sfn = scenario.stack.client("stepfunctions")
    machine = stack["outputs"]["SurveyLifecycleArn"]
    execution = (
        f"{machine.replace(':stateMachine:', ':execution:')}:{response['invitation_id']['S']}"
    )

    def ended() -> str | None:
        status = str(sfn.describe_execution(executionArn=execution)["status"])
        return None if status == "RUNNING" else status

    assert scenario.stack.until("the lifecycle to end", ended, hours=0) == "SUCCEEDED"
    _, sms = scenario._messages_to_customer()
    assert sms == []
