"""The local stack's DynamoDB transactions (infra/local/emulation/dynamodb.py): a cancelled
transaction leaves every item it named as it was, as DynamoDB's all-or-nothing does, although
only those items are backed up (moto copied whole tables)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.emulation.dynamodb import back_up_transaction_items, serialize_dynamodb

pytestmark = pytest.mark.integration

REGION = "eu-north-1"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    serialize_dynamodb()
    back_up_transaction_items()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for name, key in (
            ("plain", [("id", "HASH")]),
            ("ranged", [("pk", "HASH"), ("sk", "RANGE")]),
        ):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": a, "KeyType": k} for a, k in key],
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in key],
                BillingMode="PAY_PER_REQUEST",
            )
        yield client


# A put of a new item and an update of the existing "kept" (n + 1), both on "plain".
PUT_NEW_AND_COUNT_KEPT = [
    {"Put": {"TableName": "plain", "Item": {"id": {"S": "new"}}}},
    {"Update": {"TableName": "plain", "Key": {"id": {"S": "kept"}},
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
]  # fmt: skip


def _items(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table)["Items"], key=str)


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="plain", Item={"id": {"S": "kept"}, "n": {"N": "1"}})
    dynamodb.put_item(
        TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}}
    )
    dynamodb.put_item(TableName="plain", Item={"id": {"S": "guard"}, "state": {"S": "closed"}})
    before = {t: _items(dynamodb, t) for t in ("plain", "ranged")}
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                # applied by moto before the failing condition is reached: must be undone
                *PUT_NEW_AND_COUNT_KEPT,
                {"Put": {"TableName": "ranged",
                         "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                {"Delete": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}},
                {"ConditionCheck": {"TableName": "plain", "Key": {"id": {"S": "guard"}},
                                    "ConditionExpression": "#s = :open",
                                    "ExpressionAttributeNames": {"#s": "state"},
                                    "ExpressionAttributeValues": {":open": {"S": "open"}}}},
            ]
        )  # fmt: skip
    assert {t: _items(dynamodb, t) for t in ("plain", "ranged")} == before


def test_a_transaction_that_succeeds_writes_every_item(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="plain", Item={"id": {"S": "kept"}, "n": {"N": "1"}})
    dynamodb.transact_write_items(TransactItems=PUT_NEW_AND_COUNT_KEPT)
    assert _items(dynamodb, "plain") == [
        {"id": {"S": "kept"}, "n": {"N": "2"}},
        {"id": {"S": "new"}},
    ]
