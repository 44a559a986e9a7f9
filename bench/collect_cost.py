"""Benchmark: one answer POST on the local survey endpoint next to its floor, in the same run.

The POST is a browser's form submit to /s/{token} (Chalice's local server, the collect handler,
moto over HTTP): a first answer with a score and a comment, to an invitation whose lifecycle
waits on a task token. The floor is the calls any correct answer must make, with boto3: Query
by_link_token and GetItem the invitation (consistent), GetItem the response (consistent),
TransactWriteItems (response, invitation status, counters), GetItem the wait's task token
(consistent), SendTaskSuccess, PutEvents. The
POST's requests are counted by the local stack (GET /_local/requests), the floor's in-process."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.floor import against_floor, attribute_values, bench_stack, floor_row, interleave
from bench.summary import Row, cli

TARGET_RATIO = 1.5
SEGMENT = {
    "businessArea": "webshop",
    "touchpoint": "checkout",
    "interactionChannel": "web",
    "productId": "sku-1234",
    "storeId": "helsinki-kamppi",
}
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
    LifecycleWait(LifecycleWait.key(invitation_id), task_token=f"bench-{n}", updated_at=at).save()
    return invitation_id, token


def _floor_answer(
    config: Any, clients: tuple[Any, ...], stored: tuple[str, str], score: int, day: str
) -> None:
    from survey_core.domain.counters import counter_bucket, segment_of

    dynamodb, sfn, events = clients
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
    response = {"scores": {"nps": score}, "comment": COMMENT, "revision": 1, "answered_at": stamp}
    answered = {":answered": "answered", ":pending": "pending", ":sent": "sent", ":at": stamp}
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": tables.responses,
                "Item": {
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
                "UpdateExpression": "SET #s = :answered, answered_at = :at",
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
    wait = attribute_values({"invitation_id": f"{invitation_id}#wait"})
    task_token = dynamodb.get_item(TableName=tables.invitations, Key=wait, ConsistentRead=True)
    with suppress(sfn.exceptions.InvalidToken):
        output = '{"status":"answered"}'
        sfn.send_task_success(taskToken=task_token["Item"]["task_token"]["S"], output=output)
    detail = json.dumps({"invitationId": invitation_id, "score": score})
    events.put_events(
        Entries=[
            {
                "EventBusName": config.event_bus_name,
                "Source": "customer-feedback.surveys",
                "DetailType": "Survey Response Received",
                "Detail": detail,
            }
        ]
    )


def _score(n: int) -> int:
    # Promoters only: a detractor's answer would start the escalate function in the stack and
    # its requests would be counted with the POST's.
    return 9 + n % 2


def run(answers: int = 200) -> dict[str, Any]:
    from infra.local.scenario import http

    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with bench_stack(start, "bench-collect.log", "CollectFunction") as (info, local):
        import boto3
        from survey_core.config import CollectConfig
        from survey_core.dal.models import bind_tables

        config = CollectConfig.from_env(os.environ)
        bind_tables(config.tables, config.region)
        clients = tuple(boto3.client(s) for s in ("dynamodb", "stepfunctions", "events"))
        now = datetime.now(UTC)
        run_id = uuid.uuid4().hex[:6]
        posts = [_stored_invitation(run_id, n, now) for n in range(-1, answers)]
        floors = [_stored_invitation(run_id + "f", n, now) for n in range(-1, answers)]

        def post(n: int) -> None:
            form = {"score": str(_score(n)), "comment": COMMENT}
            status, _ = http("POST", f"{info['survey_url']}/s/{posts[n + 1][1]}", form)
            if status != 200:
                raise RuntimeError(f"answer POST answered HTTP {status}")

        def floor(n: int) -> None:
            _floor_answer(config, clients, floors[n + 1], _score(n), now.date().isoformat())

        @contextmanager
        def stack_requests() -> Iterator[list[str]]:
            made: list[str] = []
            before = local.control("requests")
            yield made
            for operation, count in local.control("requests").items():
                made += [operation] * (count - before.get(operation, 0))

        measured, floor_path = interleave(
            {
                POST: post,
                "floor (Query, GetItem x3, TransactWrite, SendTaskSuccess, PutEvents)": floor,
            },
            answers,
            {POST: stack_requests},  # the POST is served, and counted, by the stack
        )
    print("\ncost of one answer POST (first answer, score and comment), local endpoint")
    result = against_floor(measured, floor_path, TARGET_RATIO)
    result["requests_per_answer"] = {
        path: {op: round(count / answers, 2) for op, count in sorted(found.requests.items())}
        for path, found in (("post", measured), ("floor", floor_path))
    }
    print(f"requests per answer: {result['requests_per_answer']}")
    return result


def summary(result: dict[str, Any]) -> list[Row]:
    return [floor_row("collect_cost", "collect cost per answer POST", result)]


if __name__ == "__main__":
    sys.exit(cli(run))
