"""Benchmark: the trigger's cost per event next to its floor, on the local endpoint.

The floor is the minimal set of AWS calls any trigger must make for a new survey: store the
customer and read them back (UpdateItem, ALL_NEW), check their addresses against the
suppression list (BatchGetItem), store the invitation exactly once (PutItem with a condition)
and start its lifecycle (StartExecution). Both run against the same local
stack in the same run, interleaved event by event, so machine noise hits them alike.

    make bench            # or: .venv/bin/python -m bench.trigger_cost --events 200 [--json PATH]
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
    REPO_ROOT,
    MeasuredPath,
    against_floor,
    bench_stack,
    counted_requests,
    floor_row,
    print_against_floor,
)
from bench.summary import Row, write_json

TARGET_RATIO = 1.5


def _event(n: int, run: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (REPO_ROOT / "events" / "purchase-completed.json").read_text(encoding="utf-8")
    )
    event["id"] = str(uuid.uuid4())
    event["detail"]["orderId"] = f"bench-{run}-{n}"
    event["detail"]["customer"]["id"] = f"bench-{run}-{n}"
    return event


def run(events: int) -> dict[str, Any]:
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with bench_stack(start, "bench.log"):
        import boto3
        from survey_core.catalogue import load_catalogue
        from survey_core.config import TriggerConfig
        from survey_core.dal.gateways import Lifecycle, RejectedEvents
        from survey_core.dal.repositories import dynamodb_repositories
        from survey_core.logic.trigger import TriggerPorts, handle_event

        config = TriggerConfig.from_env(os.environ)
        repos = dynamodb_repositories(config.tables, config.region)
        catalogue = load_catalogue()
        sfn = boto3.client("stepfunctions")
        ports = TriggerPorts(
            Lifecycle(sfn, config.state_machine_arn),
            RejectedEvents(boto3.client("sqs"), config.rejected_events_queue_url),
            repos,
        )
        dynamodb = boto3.client("dynamodb")
        run_id = uuid.uuid4().hex[:6]

        def trigger(n: int) -> None:
            [decision] = handle_event(_event(n, run_id), config, catalogue, ports)
            if decision.outcome != "started":
                raise RuntimeError(f"benchmark event not started: {decision}")

        def floor(n: int) -> None:
            key = f"floor-{run_id}-{n}"
            dynamodb.update_item(
                TableName=config.tables.customers,
                Key={"customer_id": {"S": key}},
                UpdateExpression="SET email = :e, phone = :p, #l = :l",
                ExpressionAttributeNames={"#l": "language"},
                ExpressionAttributeValues={
                    ":e": {"S": "bench@example.com"},
                    ":p": {"S": "+358401234567"},
                    ":l": {"S": "fi"},
                },
                ReturnValues="ALL_NEW",
            )
            dynamodb.batch_get_item(
                RequestItems={
                    config.tables.suppressions: {
                        "Keys": [
                            {"address_key": {"S": f"email#{key}"}},
                            {"address_key": {"S": f"sms#{key}"}},
                        ],
                        "ConsistentRead": True,
                    }
                }
            )
            dynamodb.put_item(
                TableName=config.tables.invitations,
                Item={"invitation_id": {"S": key}, "customer_id": {"S": key}},
                ConditionExpression="attribute_not_exists(invitation_id)",
            )
            sfn.start_execution(
                stateMachineArn=config.state_machine_arn,
                name=key,
                input=json.dumps({"invitationId": key, "sendAt": "2099-01-01T00:00:00Z"}),
            )

        trigger(-1)  # warm: clients made, as in a running Lambda
        floor(-1)
        timings: dict[str, list[float]] = {"trigger": [], "floor": []}
        calls: dict[str, int] = {"trigger": 0, "floor": 0}
        for n in range(events):
            for name, step in (("trigger", trigger), ("floor", floor)):
                with counted_requests() as made:
                    began = time.perf_counter()
                    step(n)
                    timings[name].append((time.perf_counter() - began) * 1000)
                calls[name] += len(made)
    return report(events, timings, calls)


def report(events: int, timings: dict[str, list[float]], calls: dict[str, int]) -> dict[str, Any]:
    measured = MeasuredPath("trigger (handle_event)", calls["trigger"], timings["trigger"])
    floor = MeasuredPath(
        "floor (Update+BatchGet+PutItem+StartExecution)", calls["floor"], timings["floor"]
    )
    print_against_floor("trigger cost per new-survey event", measured, floor, TARGET_RATIO)
    print(
        "note: moto copies a whole table for every TransactWriteItems (to roll back), so on the\n"
        "local endpoint the trigger's transaction gets slower as the tables grow; DynamoDB's\n"
        "does not. The calls per event are the machine-independent part of the comparison."
    )
    return against_floor(measured, floor, TARGET_RATIO)


def summary(result: dict[str, Any]) -> list[Row]:
    return [floor_row("trigger_cost", "trigger cost per event", result)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200, help="events per path")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    write_json(args.json, run(args.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
