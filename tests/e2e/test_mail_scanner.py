"""A mail security scanner against the real invitation email, on the local stack.

Scanners (Microsoft Safe Links, Mimecast, Proofpoint) fetch every link of an email, in order,
seconds after delivery. Here every link of the invitation email in the outbox is fetched, in
order, in reverse and shuffled, with a scanner's and a browser's user agents: no answer may be
stored, no Connect task created, and the lifecycle must go on to its first reminder. Then the
customer taps 3 and sends the page: that is recorded, the lifecycle ends and the task is made.

The stack runs on virtual time: its clock stands still while the scanner fetches the links,
then jumps to the first reminder (24 h later) in one step.
"""

from __future__ import annotations

import random
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import TracerScenario, wait_for

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki
TIME_SCALE = 3600
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",  # Safe Links-like: an ordinary browser's
    "Mimecast-URL-Protect/1.0 (link check)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
]


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=TIME_SCALE, start_time=START, log_name="scanner.log", virtual_time=True
    ) as info:
        yield info


def fetch(url: str, agent: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_scanner_opening_every_link_answers_nothing_and_the_reminder_still_goes(
    stack: dict[str, Any],
) -> None:
    # Given a customer whose invitation email is in the outbox
    scenario = TracerScenario(stack, score=3)
    scenario.put_purchase()
    scenario.invitation_email()
    body = scenario.result.facts["email"]["body"]
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', body)]
    scores = [h for h in hrefs if "?score=" in h]
    assert [int(h.rsplit("=", 1)[1]) for h in scores] == list(range(11))
    unsubscribe = [h for h in hrefs if "/u/" in h]
    assert unsubscribe

    # When a scanner fetches every link of it: in order, in reverse, shuffled, as several agents
    shuffled = scores[:]
    random.Random(19).shuffle(shuffled)
    for agent in USER_AGENTS:
        for order in (scores, scores[::-1], shuffled):
            for url in [*order, *unsubscribe]:
                assert fetch(url, agent) == 200, url

    # Then, once every event delivery in flight has run, nothing was answered
    wait_for(
        "event deliveries",
        lambda: scenario.stack.control("invocations")["pending"] == 0 or None,
        30,
    )
    dynamodb = scenario.stack.client("dynamodb")
    [key] = dynamodb.query(
        TableName=scenario.stack.physical_id("InvitationsTable"),
        IndexName="by_link_token",
        KeyConditionExpression="link_token = :t",
        ExpressionAttributeValues={":t": {"S": scenario.link.rsplit("/", 1)[1]}},
    )["Items"]
    invitation_id = key["invitation_id"]["S"]
    response = dynamodb.get_item(
        TableName=scenario.stack.physical_id("ResponsesTable"),
        Key={"invitation_id": {"S": invitation_id}},
        ConsistentRead=True,
    )
    assert "Item" not in response
    invitation = dynamodb.get_item(
        TableName=scenario.stack.physical_id("InvitationsTable"),
        Key={"invitation_id": {"S": invitation_id}},
        ConsistentRead=True,
    )["Item"]
    assert invitation["status"]["S"] == "sent"
    # and no Connect task, although the scan fetched every detractor score
    tasks = scenario.stack.control("connect/tasks")
    assert [t for t in tasks if t["request"]["Attributes"]["invitationId"] == invitation_id] == []
    # and the lifecycle still waits: its first reminder goes out
    scenario.sms_reminder()
    sfn = scenario.stack.client("stepfunctions")
    machine = stack["outputs"]["SurveyLifecycleArn"]
    execution = f"{machine.replace(':stateMachine:', ':execution:')}:{invitation_id}"
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"

    # When the customer then taps 3 in the email and sends the page it opens
    scenario.result.facts["invitation_id"] = invitation_id
    scenario.answer()
    # Then that is the answer: stored, the lifecycle ended, the callback task made
    scenario.stored()
    scenario.lifecycle_ended()
    scenario.connect_task()
    assert scenario.result.facts["task"]["request"]["Attributes"]["score"] == "3"
