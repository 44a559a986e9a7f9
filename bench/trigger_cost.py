"""Benchmark: the trigger's cost per new-survey event next to its floor, on the local stack.

The floor is what any trigger must do: store the customer and read them back (UpdateItem,
ALL_NEW), check their addresses against the suppression list (BatchGetItem), store the
invitation exactly once together with the customer's new last contact, on the condition that
nobody else claimed the customer since it was read (TransactWriteItems: the fatigue rule holds
under concurrent events only so), and start its lifecycle (StartExecution). It stores the same
facts as the trigger: the customer's and the invitation's attributes are copied from those the
trigger stored for its first, uncounted event (an item's size is part of a request's cost)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.floor import (
    against_floor,
    attribute_values,
    bench_stack,
    floor_row,
    interleave,
    settled,
    stored_item,
)
from bench.summary import REPO_ROOT, Row, cli

TARGET_RATIO = 1.5
EVENT = REPO_ROOT / "events" / "purchase-completed.json"


def run(events: int = 200) -> dict[str, Any]:
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with bench_stack(start, "bench.log", "TriggerFunction") as (_, local):
        import boto3
        from survey_core.catalogue import load_catalogue
        from survey_core.config import TriggerConfig
        from survey_core.dal.gateways import Lifecycle, RejectedEvents
        from survey_core.dal.repositories import dynamodb_repositories
        from survey_core.logic.trigger import TriggerPorts, handle_event

        config = TriggerConfig.from_env(os.environ)
        tables = config.tables
        sfn, dynamodb = boto3.client("stepfunctions"), boto3.client("dynamodb")
        ports = TriggerPorts(
            Lifecycle(sfn, config.state_machine_arn),
            RejectedEvents(boto3.client("sqs"), config.rejected_events_queue_url),
            dynamodb_repositories(tables, config.region),
        )
        catalogue = load_catalogue()
        run_id = uuid.uuid4().hex[:6]
        # What the trigger stored for its first event (n = -1, not timed), for the floor to store:
        # the customer's facts as an UpdateItem's arguments, and the invitation.
        stored: dict[str, dict[str, Any]] = {}

        def trigger(n: int) -> None:
            event = json.loads(EVENT.read_text(encoding="utf-8"))
            event["id"] = str(uuid.uuid4())
            key = event["detail"]["orderId"] = event["detail"]["customer"]["id"] = (
                f"bench-{run_id}-{n}"
            )
            [decision] = handle_event(event, config, catalogue, ports)
            if decision.outcome != "started":
                raise RuntimeError(f"benchmark event not started: {decision}")
            if not stored:
                customer = stored_item(dynamodb, tables.customers, {"customer_id": key})
                facts = [
                    (name, value)
                    for name, value in customer.items()
                    if name not in ("customer_id", "last_contact_at", "cohort_day")
                ]
                stored["customer_update"] = {
                    "UpdateExpression": "SET "
                    + ", ".join(f"#a{i} = :a{i}" for i in range(len(facts))),
                    "ExpressionAttributeNames": {
                        f"#a{i}": name for i, (name, _) in enumerate(facts)
                    },
                    "ExpressionAttributeValues": {f":a{i}": v for i, (_, v) in enumerate(facts)},
                }
                invitation = {"invitation_id": decision.invitation_id}
                stored["invitation"] = stored_item(dynamodb, tables.invitations, invitation)

        def floor(n: int) -> None:
            key = f"floor-{run_id}-{n}"
            dynamodb.update_item(
                TableName=tables.customers,
                Key=attribute_values({"customer_id": key}),
                ReturnValues="ALL_NEW",
                **stored["customer_update"],
            )
            keys = [attribute_values({"address_key": f"{c}#{key}"}) for c in ("email", "sms")]
            dynamodb.batch_get_item(
                RequestItems={tables.suppressions: {"Keys": keys, "ConsistentRead": True}}
            )
            now = datetime.now(UTC).isoformat()
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": tables.invitations,
                            "Item": {
                                **stored["invitation"],
                                **attribute_values(
                                    {"invitation_id": key, "customer_id": key, "link_token": key}
                                ),
                            },
                            "ConditionExpression": "attribute_not_exists(invitation_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": tables.customers,
                            "Key": attribute_values({"customer_id": key}),
                            "UpdateExpression": "SET last_contact_at = :now, cohort_day = :day",
                            "ConditionExpression": "attribute_exists(customer_id) AND "
                            "attribute_not_exists(last_contact_at)",
                            "ExpressionAttributeValues": attribute_values(
                                {":now": now, ":day": now[:10]}
                            ),
                        }
                    },
                ]
            )
            sfn.start_execution(
                stateMachineArn=config.state_machine_arn,
                name=key,
                input=json.dumps({"invitationId": key, "sendAt": "2099-01-01T00:00:00Z"}),
            )

        measured, floor_path = interleave(
            {
                "trigger (handle_event)": trigger,
                "floor (Update+BatchGet+TransactWrite+StartExecution)": floor,
            },
            events,
            settle=lambda: settled(local),
        )
    print("\ntrigger cost per new-survey event, local endpoint")
    return against_floor(measured, floor_path, TARGET_RATIO)


def summary(result: dict[str, Any]) -> list[Row]:
    return [floor_row("trigger_cost", "trigger cost per event", result)]


if __name__ == "__main__":
    sys.exit(cli(run))
