"""Benchmark: one answer POST on the local survey endpoint next to its floor, in the same run.

The POST is a browser's form submit to /s/{token} on the local stack (Chalice's local server,
the collect handler, moto over HTTP): a first answer with a score and a comment, to an
invitation whose lifecycle waits on a task token. It is the only way a web answer is stored:
the one-tap link's GET before it only reads (mail scanners open every link), so it is not
measured here. The floor is the AWS calls any correct
implementation of that answer must make, made directly with boto3 from this process:

- Query by_link_token (the token is not the table key) and GetItem the invitation
  (consistent: the task token and the status must be current);
- GetItem the response (consistent: a changed answer moves its old count);
- TransactWriteItems: the response (conditional), the invitation's status (conditional),
  the counters of every segment key;
- SendTaskSuccess, so the lifecycle stops reminding;
- PutEvents (Survey Response Received).

Both paths are interleaved answer by answer, so machine noise hits them alike. The requests
of the POST are counted by the local stack (GET /_local/requests), the floor's in-process.

    make bench            # or: .venv/bin/python -m bench.collect_cost --answers 200 [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.floor import (
    MeasuredPath,
    against_floor,
    bench_stack,
    counted_requests,
    floor_row,
    print_against_floor,
)
from bench.summary import Row, write_json

TARGET_RATIO = 1.5
SEGMENT = {
    "businessArea": "webshop",
    "touchpoint": "checkout",
    "interactionChannel": "web",
    "productId": "sku-1234",
    "storeId": "helsinki-kamppi",
}
COMMENT = "Toimitus oli nopea, kiitos! <b>ok</b>"


def _stored_invitation(run_id: str, n: int, now: datetime) -> tuple[str, str]:
    """An invitation as the trigger and send functions leave it, waiting on a task token.
    Returns (invitation id, link token)."""
    from survey_core.clock import iso
    from survey_core.dal.models import Invitation
    from survey_core.tokens import new_link_token

    invitation_id = f"bench-{run_id}-{n}"
    token = new_link_token()
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
        rung_at=[iso(now), iso(now + timedelta(hours=24)), iso(now + timedelta(hours=96))],
        status="sent",
        send_at=iso(now),
        closes_at=iso(now + timedelta(days=7)),
        task_token=f"bench-task-{invitation_id}",  # no execution holds it: InvalidToken
        created_at=iso(now),
        updated_at=iso(now),
    ).save()
    return invitation_id, token


def _floor_answer(
    config: Any, clients: tuple[Any, Any, Any], invitation_id: str, token: str, score: int, day: str
) -> None:
    from botocore.exceptions import ClientError
    from survey_core.domain.counters import counter_bucket, segment_of

    dynamodb, sfn, events = clients
    [key] = dynamodb.query(
        TableName=config.tables.invitations,
        IndexName="by_link_token",
        KeyConditionExpression="link_token = :t",
        ExpressionAttributeValues={":t": {"S": token}},
        Limit=1,
    )["Items"]
    invitation = dynamodb.get_item(
        TableName=config.tables.invitations, Key=key, ConsistentRead=True
    )["Item"]
    dynamodb.get_item(
        TableName=config.tables.responses,
        Key={"invitation_id": {"S": invitation_id}},
        ConsistentRead=True,
    )
    stamp = datetime.now(UTC).isoformat()
    # The counters a report needs: the score histogram and the response count, one counter
    # per series for the day and the answer's combination of segment values (store.Counts).
    segment = {"M": {k: {"S": v} for k, v in segment_of(SEGMENT).items()}}
    counters = [
        {
            "Update": {
                "TableName": config.tables.aggregates,
                "Key": {
                    "series": {"S": f"post-purchase#{series}"},
                    "bucket": {"S": counter_bucket(day, SEGMENT)},
                },
                "UpdateExpression": f"SET segment = :segment {update}",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":segment": segment},
            }
        }
        for series, update in (("nps", f"ADD n :one, s{score} :one"), ("responses", "ADD n :one"))
    ]
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": config.tables.responses,
                    "Item": {
                        "invitation_id": {"S": invitation_id},
                        "scores": {"M": {"nps": {"N": str(score)}}},
                        "comment": {"S": COMMENT},
                        "segment": invitation["segment"],
                        "revision": {"N": "1"},
                        "answered_at": {"S": stamp},
                    },
                    "ConditionExpression": "attribute_not_exists(invitation_id)",
                }
            },
            {
                "Update": {
                    "TableName": config.tables.invitations,
                    "Key": {"invitation_id": {"S": invitation_id}},
                    "UpdateExpression": "SET #s = :answered, answered_at = :at",
                    "ConditionExpression": "#s IN (:pending, :sent, :answered)",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":answered": {"S": "answered"},
                        ":pending": {"S": "pending"},
                        ":sent": {"S": "sent"},
                        ":at": {"S": stamp},
                    },
                }
            },
            *counters,
        ]
    )
    try:
        sfn.send_task_success(
            taskToken=invitation["task_token"]["S"], output='{"status":"answered"}'
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidToken":
            raise
    events.put_events(
        Entries=[
            {
                "EventBusName": config.event_bus_name,
                "Source": "customer-feedback.surveys",
                "DetailType": "Survey Response Received",
                "Detail": json.dumps({"invitationId": invitation_id, "score": score}),
            }
        ]
    )


def _score(n: int) -> int:
    # Promoters only: a detractor's answer would start the escalate function in the stack and
    # its requests would be counted with the POST's.
    return 9 + n % 2


def run(answers: int) -> dict[str, Any]:
    from infra.local.scenario import http

    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with bench_stack(start, "bench-collect.log") as (info, local):
        import boto3
        from survey_core.config import CollectConfig
        from survey_core.dal.models import bind_tables

        config = CollectConfig.from_env(os.environ)
        bind_tables(config.tables, config.region)
        dynamodb = boto3.client("dynamodb")
        sfn = boto3.client("stepfunctions")
        events = boto3.client("events")
        now = datetime.now(UTC)
        run_id = uuid.uuid4().hex[:6]
        posts = [_stored_invitation(run_id, n, now) for n in range(-1, answers)]
        floors = [_stored_invitation(run_id + "f", n, now) for n in range(-1, answers)]
        day = now.date().isoformat()

        def post(n: int) -> None:
            _, token = posts[n + 1]
            status, _ = http(
                "POST",
                f"{info['survey_url']}/s/{token}",
                {"score": str(_score(n)), "comment": COMMENT},
            )
            if status != 200:
                raise RuntimeError(f"answer POST answered HTTP {status}")

        def floor(n: int) -> None:
            invitation_id, token = floors[n + 1]
            _floor_answer(config, (dynamodb, sfn, events), invitation_id, token, _score(n), day)

        post(-1)  # warm: the handler's clients made, as in a running Lambda
        floor(-1)
        timings: dict[str, list[float]] = {"post": [], "floor": []}
        calls = {"post": 0, "floor": 0}
        operations: dict[str, dict[str, int]] = {"post": {}, "floor": {}}
        for n in range(answers):
            before = local.control("requests")
            began = time.perf_counter()
            post(n)
            timings["post"].append((time.perf_counter() - began) * 1000)
            after = local.control("requests")
            for operation, count in after.items():
                made = count - before.get(operation, 0)
                if made:
                    calls["post"] += made
                    operations["post"][operation] = operations["post"].get(operation, 0) + made
            with counted_requests() as made_by_floor:
                began = time.perf_counter()
                floor(n)
                timings["floor"].append((time.perf_counter() - began) * 1000)
            calls["floor"] += len(made_by_floor)
            for operation in made_by_floor:
                operations["floor"][operation] = operations["floor"].get(operation, 0) + 1
    return _report(answers, timings, calls, operations)


def _report(
    answers: int,
    timings: dict[str, list[float]],
    calls: dict[str, int],
    operations: dict[str, dict[str, int]],
) -> dict[str, Any]:
    measured = MeasuredPath(
        "answer POST /s/{token} (HTTP, Chalice, handler)", calls["post"], timings["post"]
    )
    floor = MeasuredPath("floor (Query, GetItem x2, TransactWrite, SendTaskSuccess, PutEvents)",
                         calls["floor"], timings["floor"])  # fmt: skip
    print_against_floor(
        "cost of one answer POST (first answer, score and comment)", measured, floor, TARGET_RATIO
    )
    for path, counts in operations.items():
        listed = ", ".join(f"{op} {count / answers:.1f}" for op, count in sorted(counts.items()))
        print(f"{path} requests per answer: {listed}")
    return {
        **against_floor(measured, floor, TARGET_RATIO),
        "requests_per_answer": {
            path: {op: round(count / answers, 2) for op, count in sorted(counts.items())}
            for path, counts in operations.items()
        },
    }


def summary(result: dict[str, Any]) -> list[Row]:
    return [floor_row("collect_cost", "collect cost per answer POST", result)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--answers", type=int, default=200, help="answers per path")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    write_json(args.json, run(args.answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
