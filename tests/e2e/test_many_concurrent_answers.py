"""Two hundred answers at once on the local stack: a hundred customers, each answering their
invitation twice at the same moment with different scores, from fifty threads.

The survey pages answer each request on its own thread and the handlers share one moto server:
the two answers to one invitation race on its response's revision, and the answers of one
combination of segment values race on its shared counters (one per series and day). The
invitations have different segments, so the counters spread over several items. In the end there
is one response per invitation, at revision 2, and the counters equal a recount of the stored
responses exactly.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import EXAMPLE_EVENT, LocalStackClient, http, wait_for
from tests.integration.helpers import counted_vs_stored, summed

pytestmark = pytest.mark.e2e

# Monday 08:00 in Helsinki, on virtual time: the stack's clock stands still (nothing here
# advances it), so however slow the machine, no reminder (24 h) comes and the quiet hours
# (21:00) stay far; on the scaled clock a run slower than 144 s met the first reminder.
START = "2026-11-16T08:00:00+02:00"
TIME_SCALE = 600
INVITATIONS = 100
WORKERS = 50
LINK = re.compile(r"(https?://[^\"'\s<>?]+/s/[A-Za-z0-9_-]{22})")
AREAS = ("webshop", "store", "app")
TOUCHPOINTS = ("checkout", "delivery", "returns", "support")


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=TIME_SCALE, start_time=START, log_name="many.log", virtual_time=True
    ) as info:
        yield info


def _segment(number: int) -> dict[str, str]:
    """Twelve segments over two scope attributes: a first answer's transaction writes 16 items
    (7 score counters, 7 response counters). Not the example event's five attributes: moto
    copies a whole table for every item of a transaction, and 28-item transactions over the
    growing counter table made single answers take over 30 s on two cores."""
    return {
        "businessArea": AREAS[number % len(AREAS)],
        "touchpoint": TOUCHPOINTS[number % len(TOUCHPOINTS)],
    }


def _scores(number: int) -> tuple[int, int]:
    """Two different NPS scores for one invitation's two answers."""
    first = number % 11
    return first, (first + 1 + number % 10) % 11


def _purchases(now: datetime) -> list[dict[str, Any]]:
    template: dict[str, Any] = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))["detail"]
    purchases = []
    for number in range(INVITATIONS):
        detail = json.loads(json.dumps(template))
        detail["occurredAt"] = (now - timedelta(hours=2)).isoformat()  # due at once
        detail["orderId"] = f"order-many-{number:03d}"
        detail["customer"] = {
            "id": f"many-{number:03d}",
            "email": f"many-{number:03d}@example.com",
            "language": "fi",
            "consent": {"email": True, "sms": False},
        }
        detail["segment"] = _segment(number)
        purchases.append(detail)
    return purchases


def _links(stack: LocalStackClient) -> dict[str, str] | None:
    """customer id -> their survey link, once every invitation email has arrived."""
    links = {}
    for mail in stack.control("outbox")["emails"]:
        match = LINK.search(mail["body"])
        if match and mail["to"][0].startswith("many-"):
            links[mail["to"][0].split("@")[0]] = match.group(1)
    return links if len(links) == INVITATIONS else None


def _scan(stack: LocalStackClient, logical_id: str) -> list[dict[str, Any]]:
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=stack.physical_id(logical_id), ConsistentRead=True)
    )
    return [item for page in pages for item in page["Items"]]


def test_two_hundred_concurrent_answers_are_counted_exactly(stack: dict[str, Any]) -> None:
    local = LocalStackClient(stack)
    # Given a hundred customers, each with the link from their invitation email
    now = datetime.fromisoformat(local.control("info")["now"])
    events = local.client("events")
    purchases = _purchases(now)
    for first in range(0, INVITATIONS, 10):
        entries = [
            {
                "EventBusName": stack["event_bus_name"],
                "Source": "com.example.webshop",
                "DetailType": "Purchase Completed",
                "Detail": json.dumps(detail),
            }
            for detail in purchases[first : first + 10]
        ]
        assert not events.put_events(Entries=entries)["FailedEntryCount"]
    links = wait_for("a hundred invitation emails", lambda: _links(local), 90)
    # When each answers twice at once, with two different scores: 200 submits, 50 at a time,
    # the two answers to one invitation side by side in the queue
    submits = [
        (customer, {"score": str(score), "comment": f"{customer} antoi {score}"})
        for number in range(INVITATIONS)
        for customer in [f"many-{number:03d}"]
        for score in _scores(number)
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(lambda s: http("POST", links[s[0]], s[1])[0], submits))
    seconds = time.monotonic() - started
    print(f"\n{len(submits)} answers from {WORKERS} threads in {seconds:.1f} s")
    # Then every submit got the thank-you page: no 4xx, no 5xx
    assert statuses == [200] * len(submits)
    # and there is one response per invitation, at revision 2, holding one of its two answers
    responses = {item["customer_id"]["S"]: item for item in _scan(local, "ResponsesTable")}
    assert len(_scan(local, "ResponsesTable")) == INVITATIONS
    assert sorted(responses) == [f"many-{n:03d}" for n in range(INVITATIONS)]
    for number in range(INVITATIONS):
        response = responses[f"many-{number:03d}"]
        score = int(response["scores"]["M"]["nps"]["N"])
        assert response["revision"]["N"] == "2"
        assert score in _scores(number)
        assert response["comment"]["S"] == f"many-{number:03d} antoi {score}"  # one answer's
        segment = {k: v["S"] for k, v in response["segment"]["M"].items()}
        assert segment == _segment(number)
    # and the counters equal a recount of the stored responses, exactly
    counted, expected = counted_vs_stored(
        local.client("dynamodb"),
        local.physical_id("ResponsesTable"),
        local.physical_id("AggregatesTable"),
    )
    assert counted == expected
    assert summed(counted, "post-purchase#nps")["n"] == INVITATIONS
    # and every lifecycle ended at its answer
    sfn = local.client("stepfunctions")
    machine = stack["outputs"]["SurveyLifecycleArn"]

    def all_ended() -> dict[str, int] | None:
        found: dict[str, int] = {}
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            for execution in page["executions"]:
                found[execution["status"]] = found.get(execution["status"], 0) + 1
        return None if found.get("RUNNING") else found

    assert wait_for("the lifecycles to end", all_ended, 30) == {"SUCCEEDED": INVITATIONS}
