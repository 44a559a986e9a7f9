"""Benchmark: one answer POST on the local survey endpoint next to its floor, in the same run.

The POST is a browser's form submit to /s/{token} (Chalice's local server, the collect handler,
moto over HTTP): a first answer with a score and a comment, to an invitation whose lifecycle
waits on a task token. What the customer waits for is the answer stored: the floor is the calls
any correct answer must make before it can say so, with boto3: Query by_link_token, GetItem the
invitation and the response (consistent), TransactWriteItems (response, invitation status,
counters), the response item being the one the POST stored for its first, uncounted answer (an
item's size is part of a request's cost). What the answer implies (the wait ended, Survey
Response Received) follows from the stored answer in the outbox function, after the POST: its
requests are counted apart, next to their own floor (GetItem the wait's task token,
SendTaskSuccess, PutEvents). The functions' requests are those the local stack records for each
function (GET /_local/function-calls), the floor's are counted in-process."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.floor import (
    StackRequests,
    against_floor,
    attribute_values,
    bench_stack,
    floor_row,
    interleave,
    settled,
    stored_item,
)
from bench.summary import Row, cli, verdict

TARGET_RATIO = 1.5
SEGMENT = {
    "businessArea": "webshop",
    "touchpoint": "checkout",
    "interactionChannel": "web",
    "productId": "sku-1234",
    "storeId": "helsinki-kamppi",
}
TOKEN_PREFIX = "bench-token-"  # noqa: S105 - a task token no execution holds
POST = "answer POST /s/{token} (HTTP, Chalice, handler)"
COMMENT = "Toimitus oli nopea, kiitos! <b>ok</b>"


def _stored_invitation(run_id: str, n: int, now: datetime) -> tuple[str, str]:
    """An invitation as the trigger and send functions leave it, waiting on a task token.
    Returns (invitation id, link token)."""
    from survey_core.clock import iso
    from survey_core.dal.models import Invitation, LifecycleWait
    from survey_core.tokens import new_link_token

    invitation_id, token, at = f"bench-{run_id}-{n}", new_link_token(), iso(now)
    Invitation(
        invitation_id,
        link_token=token,
        survey_id="post-purchase",
        customer_id=invitation_id,
        business_key=invitation_id,
        source_event_id=invitation_id,
        metric="nps",
        metrics=["nps"],
        language="fi",
        segment=SEGMENT,
        channels=["email", "sms", "email"],
        rung_at=[at, iso(now + timedelta(hours=24)), iso(now + timedelta(hours=96))],
        status="sent",
        send_at=at,
        closes_at=iso(now + timedelta(days=7)),
        created_at=at,
        updated_at=at,
    ).save()
    # No execution holds the token: SendTaskSuccess answers InvalidToken
    token_of_wait = TOKEN_PREFIX + invitation_id
    LifecycleWait(LifecycleWait.key(invitation_id), task_token=token_of_wait, updated_at=at).save()
    return invitation_id, token


def _floor_answer(
    config: Any,
    dynamodb: Any,
    stored: tuple[str, str],
    answer: dict[str, Any],
    score: int,
    day: str,
) -> None:
    """One answer as the floor makes it; answer: a response item as the POST stores one."""
    from survey_core.domain.counters import counter_bucket, segment_of

    tables, (invitation_id, token) = config.tables, stored
    [key] = dynamodb.query(
        TableName=tables.invitations,
        IndexName="by_link_token",
        KeyConditionExpression="link_token = :t",
        ExpressionAttributeValues=attribute_values({":t": token}),
        Limit=1,
    )["Items"]
    invitation = dynamodb.get_item(TableName=tables.invitations, Key=key, ConsistentRead=True)
    answer_key = attribute_values({"invitation_id": invitation_id})
    dynamodb.get_item(TableName=tables.responses, Key=answer_key, ConsistentRead=True)
    stamp = datetime.now(UTC).isoformat()
    response = {"scores": {"nps": score}, "answered_at": stamp, "first_answered_at": stamp}
    answered = {":answered": "answered", ":pending": "pending", ":sent": "sent", ":at": stamp}
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": tables.responses,
                "Item": {
                    **answer,
                    **answer_key,
                    **attribute_values(response),
                    "segment": invitation["Item"]["segment"],
                },
                "ConditionExpression": "attribute_not_exists(invitation_id)",
            }
        },
        {
            "Update": {
                "TableName": tables.invitations,
                "Key": answer_key,
                "UpdateExpression": "SET #s = :answered, answered_at = :at, updated_at = :at",
                "ConditionExpression": "#s IN (:pending, :sent, :answered)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": attribute_values(answered),
            }
        },
    ]
    # The counters a report needs: the score histogram and the response count, one counter
    # per series for the day and the answer's combination of segment values
    # (domain/counters.Counts).
    for series, add in (("nps", f"ADD n :one, s{score} :one"), ("responses", "ADD n :one")):
        counter = {"series": f"post-purchase#{series}", "bucket": counter_bucket(day, SEGMENT)}
        values = {":one": 1, ":segment": segment_of(SEGMENT)}
        writes.append(
            {
                "Update": {
                    "TableName": tables.aggregates,
                    "Key": attribute_values(counter),
                    # segment is a reserved word: a name placeholder, as PynamoDB's own update
                    "UpdateExpression": f"SET #segment = :segment {add}",
                    "ExpressionAttributeNames": {"#segment": "segment"},
                    "ExpressionAttributeValues": attribute_values(values),
                }
            }
        )
    dynamodb.transact_write_items(TransactItems=writes)


def _score(n: int) -> int:
    # Promoters only: a detractor's answer would start the escalate function in the stack and
    # its requests would be counted with the POST's.
    return 9 + n % 2


# What the outbox must do for a first answer: read the wait's task token, end the wait,
# publish the answer.
OUTBOX_FLOOR = ("dynamodb.GetItem", "stepfunctions.SendTaskSuccess", "events.PutEvents")
OUTBOX_DRAINED_WITHIN_S = 120.0


def _outbox_until_published(requests: StackRequests, invitations: set[str]) -> list[dict[str, Any]]:
    """The outbox's requests about these invitations, once it has published each."""
    from infra.local.scenario import wait_for

    def published_all() -> list[dict[str, Any]] | None:
        requests.read()
        found = [
            c
            for c in requests.calls
            if c["function"] == "OutboxFunction" and _invitation_of(c) in invitations
        ]
        published = {_invitation_of(c) for c in found if c["operation"] == "PutEvents"}
        return found if published >= invitations else None

    what = f"the outbox to publish {len(invitations)} answers"
    return wait_for(what, published_all, OUTBOX_DRAINED_WITHIN_S)


def _invitation_of(call: dict[str, Any]) -> str | None:
    """The invitation an outbox request is about: the key read, the token, the event."""
    from survey_core.domain.invitations import WAIT_KEY_SUFFIX

    params = call["params"]
    if call["operation"] == "GetItem":
        return str(params["Key"]["invitation_id"]["S"]).removesuffix(WAIT_KEY_SUFFIX)
    if call["operation"] == "SendTaskSuccess":
        return str(params["taskToken"]).removeprefix(TOKEN_PREFIX)
    if call["operation"] == "PutEvents":
        return str(json.loads(params["Entries"][0]["Detail"])["invitationId"])
    return None


def run(answers: int = 200) -> dict[str, Any]:
    from infra.local.scenario import http

    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with bench_stack(start, "bench-collect.log", "CollectFunction") as (info, local):
        import boto3
        from survey_core.config import CollectConfig
        from survey_core.dal.models import bind_tables

        config = CollectConfig.from_env(os.environ)
        bind_tables(config.tables, config.region)
        dynamodb = boto3.client("dynamodb")
        now = datetime.now(UTC)
        run_id = uuid.uuid4().hex[:6]
        posts = [_stored_invitation(run_id, n, now) for n in range(-1, answers)]
        floors = [_stored_invitation(run_id + "f", n, now) for n in range(-1, answers)]
        requests = StackRequests(local)

        def post(n: int) -> None:
            form = {"score": str(_score(n)), "comment": COMMENT}
            status, _ = http("POST", f"{info['survey_url']}/s/{posts[n + 1][1]}", form)
            if status != 200:
                raise RuntimeError(f"answer POST answered HTTP {status}")

        answer: dict[str, Any] = {}  # the response the POST stored for its first answer

        def floor(n: int) -> None:
            if not answer:
                key = {"invitation_id": posts[0][0]}
                answer.update(stored_item(dynamodb, config.tables.responses, key))
            day = now.date().isoformat()
            _floor_answer(config, dynamodb, floors[n + 1], answer, _score(n), day)

        measured, floor_path = interleave(
            {POST: post, "floor (Query, GetItem x2, TransactWriteItems)": floor},
            answers,
            {POST: lambda: requests.of("CollectFunction")},
            settle=lambda: settled(local),
        )
        outbox = _outbox_until_published(requests, {invitation for invitation, _ in posts[1:]})
    print("\ncost of one answer POST (first answer, score and comment), local endpoint")
    result = against_floor(measured, floor_path, TARGET_RATIO)
    result["requests_per_answer"] = {
        path: {op: round(count / answers, 2) for op, count in sorted(found.requests.items())}
        for path, found in (("post", measured), ("floor", floor_path))
    }
    by_operation = Counter(f"{c['service']}.{c['operation']}" for c in outbox)
    result["outbox_per_answer"] = {
        "requests": {op: round(count / answers, 2) for op, count in sorted(by_operation.items())},
        "calls_each": round(len(outbox) / answers, 2),
        "floor_calls_each": len(OUTBOX_FLOOR),
    }
    print(f"requests per answer: {result['requests_per_answer']}")
    print(f"the outbox's, after the POST: {result['outbox_per_answer']}")
    return result


def summary(result: dict[str, Any]) -> list[Row]:
    outbox = result["outbox_per_answer"]
    return [
        floor_row("collect_cost", "collect cost per answer POST", result),
        Row(
            "collect_cost",
            "the answer's consequences, after the POST (outbox function)",
            f"{outbox['calls_each']:g} calls per answer",
            f"<= {outbox['floor_calls_each']} (its floor)",
            verdict(outbox["calls_each"], outbox["floor_calls_each"]),
            outbox["calls_each"],
            "calls",
        ),
    ]


if __name__ == "__main__":
    sys.exit(cli(run))
