"""Mail security scanners against the survey links: no GET changes state.

Microsoft Safe Links, Mimecast, Proofpoint and the like fetch every link of an email, in order,
seconds after delivery. The invitation email carries eleven one-tap links (`?score=0` ..
`?score=10`) and an unsubscribe link. Fetching them, in any order, with any user agent, any
number of times, must store no answer, move no counter, change no invitation, put nothing on
the bus and end no lifecycle wait; the customer's POST then records the score they chose.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import botocore.client
import pytest
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import AwsCalls, BusRecorder, post_form, run_outbox, sent_emails
from tests.integration.test_send import FIXED_CLOCK, _invitation, _rung, _start, _task_token

pytestmark = pytest.mark.integration

# Fetchers as a scanner or a person sends them. Scanners need not say what they are, so the
# app must not care: the same GET from anyone changes nothing.
USER_AGENTS = {
    "safe-links-like": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "mimecast-like": "Mimecast-URL-Protect/1.0 (link check)",
    "proofpoint-like": "python-requests/2.31.0",
    "browser": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
}
# A request that only reads: what a GET may make of AWS.
READ_ONLY = re.compile(r"^(Get|BatchGet|TransactGet|Query|Scan|Describe|List)")


@contextmanager
def aws_requests() -> Iterator[list[str]]:
    """Every AWS request any boto3 client or PynamoDB makes meanwhile, as "service.Operation"."""
    made: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        made.append(f"{self.meta.service_model.service_name}.{operation}")
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield made
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def snapshot(deployment: Deployment) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table of the stack, in a comparable order."""
    dynamodb = deployment.client("dynamodb")
    found = {}
    for table in dynamodb.list_tables()["TableNames"]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        found[table] = sorted(
            (item for page in pages for item in page["Items"]), key=lambda item: repr(item)
        )
    return found


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _links(mail: dict[str, Any]) -> tuple[list[str], str]:
    """The email's one-tap score links, in the order they appear, and its unsubscribe link."""
    hrefs = re.findall(r'href="([^"]+)"', mail["body"])
    scores = [h.replace("&amp;", "&") for h in hrefs if "/s/" in h and "?score=" in h]
    [unsubscribe] = {h for h in hrefs if "/u/" in h}
    return scores, unsubscribe


@pytest.fixture
def delivered(deployment: Deployment) -> dict[str, Any]:
    """A post-purchase invitation whose email went out: the lifecycle waits on its task token."""
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    assert _rung(send, invitation, 0, token="wait-for-answer")["outcome"] == "sent"
    [mail] = sent_emails()
    return {"invitation": invitation, "mail": mail}


def test_a_scanner_fetching_every_link_changes_nothing_and_the_customers_tap_records(
    deployment: Deployment, delivered: dict[str, Any]
) -> None:
    # Given the invitation email the customer received, with its eleven one-tap links
    scores, unsubscribe = _links(delivered["mail"])
    assert [int(url.rsplit("=", 1)[1]) for url in scores] == list(range(11))
    invitation_id = delivered["invitation"]["invitation_id"]["S"]
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    outbox = deployment.load("OutboxFunction")
    success = AwsCalls(outbox.PORTS.lifecycle._sfn, "SendTaskSuccess")
    deployment.take_stream_records()
    recorder = BusRecorder(deployment)
    before = snapshot(deployment)
    shuffled = scores[:]
    random.Random(19).shuffle(shuffled)
    # When scanners and a browser fetch every link: in order, in reverse, shuffled, repeated,
    # and the unsubscribe link too
    with Client(collect.app) as client, aws_requests() as made:
        for agent in USER_AGENTS.values():
            for order in (scores, scores[::-1], shuffled):
                for url in [*order, unsubscribe]:
                    page = client.http.get(_path(url), headers={"User-Agent": agent})
                    assert page.status_code == 200, (url, page.status_code)
    # Then no table changed: no response, no counter moved, the invitation as it was
    assert snapshot(deployment) == before
    assert before[deployment.physical_id("ResponsesTable")] == []
    assert _invitation(deployment, invitation_id)["status"]["S"] == "sent"
    assert _task_token(deployment, invitation_id) == "wait-for-answer"
    # and nothing reached the responses stream, so the lifecycle is not told (its reminders
    # go on) and nothing goes on the bus
    assert deployment.take_stream_records() == []
    assert recorder.events() == []
    # and every AWS request the pages made was a read
    assert made and [m for m in made if not READ_ONLY.match(m.split(".", 1)[1])] == []

    # When the customer then taps 3 in the email and sends the page it opens
    with Client(collect.app) as client:
        page = client.http.get(_path(scores[3])).body.decode()
        assert re.findall(r'value="(\d+)" checked', page) == ["3"]
        assert post_form(client, f"/s/{delivered['invitation']['link_token']['S']}", "score=3")
    # Then that one tap recorded it: the response, the lifecycle told once, one event
    response = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("ResponsesTable"),
        Key={"invitation_id": {"S": invitation_id}},
        ConsistentRead=True,
    )["Item"]
    assert (response["scores"]["M"]["nps"]["N"], response["revision"]["N"]) == ("3", "1")
    assert _invitation(deployment, invitation_id)["status"]["S"] == "answered"
    run_outbox(deployment, outbox)  # the stored answer's consequences, from its stream record
    assert [r["taskToken"] for r in success.requests] == ["wait-for-answer"]
    received = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    assert [e["detail"]["scores"] for e in received] == [{"nps": 3}]


QUERIES = [
    "",
    "?score=0",
    "?score=10",
    "?score=6&score=0",
    "?score=11",
    "?score=abc",
    "?score=",
    "?comment=spam&score=2",
    "?List-Unsubscribe=One-Click",
    "?channel=email&channel=sms",
]


def test_no_get_route_of_the_collect_app_writes(
    deployment: Deployment, delivered: dict[str, Any]
) -> None:
    # Given every GET route of the collect app, each with the real link token and query
    # strings that name what its POST would take
    token = delivered["invitation"]["link_token"]["S"]
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    gets = [path for path, methods in collect.app.routes.items() if "GET" in methods]
    assert sorted(gets) == ["/s/{token}", "/u/{token}"]  # a new GET route gets checked here
    deployment.take_stream_records()
    before = snapshot(deployment)
    # When each is fetched with each query
    with Client(collect.app) as client, aws_requests() as made:
        for route in gets:
            for query in QUERIES:
                page = client.http.get(route.replace("{token}", token) + query)
                # a bad ?score opens the page with nothing chosen: not an error
                assert page.status_code == 200, (route, query, page.status_code)
                if route == "/s/{token}" and query in ("?score=11", "?score=abc", "?score="):
                    assert b" checked" not in page.body, query
    # Then nothing changed anywhere, and only reads were made
    assert snapshot(deployment) == before
    assert deployment.take_stream_records() == []
    assert made and [m for m in made if not READ_ONLY.match(m.split(".", 1)[1])] == []
