"""bench.cost_model's arithmetic against values computed by hand (the sums are in the comments),
and bench/prices.json: dated, and a price for every component and name the model uses."""

import json
import math
from datetime import date
from typing import Any

import pytest

from bench import cost_model as cm

pytestmark = pytest.mark.unit

# The figures of bench/prices.json at the time of writing, fixed here so the hand-computed
# expectations do not move when the prices file is updated.
PRICES = {
    "taken": "2026-11-24",
    "region": "eu-north-1",
    "prices": {
        "lambda_requests": {"component": "Lambda", "per": 1_000_000, "usd": 0.2},
        "lambda_arm64_gb_second": {"component": "Lambda", "per": 1, "usd": 0.0000133334},
        "step_functions_standard_transition": {
            "component": "Step Functions",
            "per": 1000,
            "usd": 0.025,
        },
        "dynamodb_write_request_unit": {"component": "DynamoDB", "per": 1e6, "usd": 0.625},
        "dynamodb_read_request_unit": {"component": "DynamoDB", "per": 1e6, "usd": 0.125},
        "eventbridge_custom_event": {"component": "EventBridge", "per": 1e6, "usd": 1.0},
        "eventbridge_scheduler_invocation": {
            "component": "EventBridge",
            "per": 1e6,
            "usd": 1.0,
        },
        "ses_outbound_email": {"component": "SES", "per": 1000, "usd": 0.1},
        "api_gateway_rest_request": {"component": "API Gateway", "per": 1e6, "usd": 3.5},
        "sqs_standard_request": {"component": "SQS, SNS", "per": 1e6, "usd": 0.4},
        "sns_publish_request": {"component": "SQS, SNS", "per": 1e6, "usd": 0.5},
        "sms_finland_message_part": {
            "component": "SMS carrier",
            "carrier_fee": True,
            "per": 1,
            "usd": 0.08,
        },
    },
}


def test_cost_per_1000_surveys_by_component() -> None:
    counts = cm.Counts(
        lambda_invocations=4,
        lambda_gb_seconds=0.2,
        transitions=4,
        write_units=100,
        read_units=20,
        events=3,
        scheduled_invocations=1,
        emails=2,
        sms_messages=1,
        sms_segments=2,
        api_requests=2,
        sqs_requests=1,
    )
    costs = cm.cost_per_1000(counts, PRICES)
    expected = {
        # 1000 x (4 x 0.2e-6 + 0.2 x 0.0000133334) = 1000 x (0.8e-6 + 2.66668e-6)
        "Lambda": 0.00346668,
        "Step Functions": 0.1,  # 1000 x 4 x 0.025 / 1000
        "DynamoDB": 0.065,  # 1000 x (100 x 0.625e-6 + 20 x 0.125e-6) = 0.0625 + 0.0025
        "EventBridge": 0.004,  # 1000 x (3 events + 1 scheduled invocation) x 1e-6
        "SES": 0.2,  # 1000 x 2 x 0.1 / 1000
        "API Gateway": 0.007,  # 1000 x 2 x 3.5e-6
        "SQS, SNS": 0.0004,  # 1000 x 1 x 0.4e-6
        "SMS carrier": 160.0,  # 1000 x 2 segments x 0.08
    }
    assert costs == pytest.approx(expected, rel=1e-9)
    # everything but the carrier fees: 0.00346668 + 0.1 + 0.065 + 0.004 + 0.2 + 0.007 + 0.0004
    assert cm.infrastructure(costs) == pytest.approx(0.37986668, rel=1e-9)


def test_mix_is_the_weighted_mean_and_weights_must_sum_to_one() -> None:
    zero = dict.fromkeys(cm.COMPONENTS, 0.0)
    costs = {
        "a": {**zero, "SES": 0.1, "Step Functions": 0.05},
        "b": {**zero, "SES": 0.2, "Step Functions": 0.225, "SMS carrier": 80.0},
    }
    mix = cm.mixed(costs, {"a": 0.25, "b": 0.75})
    assert mix["SES"] == pytest.approx(0.175)  # 0.25 x 0.1 + 0.75 x 0.2
    assert mix["Step Functions"] == pytest.approx(0.18125)  # 0.0125 + 0.16875
    assert mix["SMS carrier"] == pytest.approx(60.0)
    assert cm.infrastructure(mix) == pytest.approx(0.35625)
    with pytest.raises(ValueError):
        cm.mixed(costs, {"a": 0.5, "b": 0.6})


def test_lambda_bills_whole_milliseconds_times_memory() -> None:
    assert cm.lambda_gb_seconds(99.2, 512) == pytest.approx(0.05)  # 100 ms x 0.5 GB
    assert cm.lambda_gb_seconds(1, 1024) == pytest.approx(0.001)
    counts = cm.Counts()
    cm.add_invocations(
        counts,
        [cm.Invocation("SendFunction", 120.4), cm.Invocation("TriggerFunction", 79.0)],
        {"SendFunction": 512, "TriggerFunction": 256},
    )
    assert counts.lambda_invocations == 2
    assert counts.lambda_gb_seconds == pytest.approx(0.121 * 0.5 + 0.079 * 0.25)
    fixed = cm.Counts()
    cm.add_invocations(fixed, [cm.Invocation("SendFunction", 3.0)], {"SendFunction": 512}, 1000)
    assert fixed.lambda_gb_seconds == pytest.approx(0.5)  # 1 s x 0.5 GB


def test_the_lake_export_is_priced_by_the_analytics_model_not_per_survey() -> None:
    # one survey's stream records invoke it once or twice each on the local stack; in AWS a
    # minute's batch holds every survey's (bench.analytics prices it per month)
    counts = cm.Counts()
    cm.add_invocations(
        counts,
        [cm.Invocation("LakeExportFunction", 20.0), cm.Invocation("SendFunction", 100.0)],
        {"LakeExportFunction": 512, "SendFunction": 512},
    )
    assert counts.lambda_invocations == 1
    assert counts.lambda_gb_seconds == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("service", "operation", "params", "counted"),
    [
        ("dynamodb", "GetItem", {"TableName": "inv", "Key": {}}, {"read_units"}),
        ("sesv2", "SendEmail", {}, {"emails"}),
        ("ses", "SendRawEmail", {}, {"emails"}),
        ("events", "PutEvents", {"Entries": [{"Detail": "{}"}]}, {"events"}),
        (
            "sns",
            "Publish",
            {"PhoneNumber": "+358401234567", "Message": "hi"},
            {"sms_messages", "sms_segments"},
        ),
        ("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-north-1:1:t"}, {"sns_requests"}),
        ("sqs", "SendMessage", {}, {"sqs_requests"}),
        ("sqs", "GetQueueUrl", {}, set()),  # free
        ("stepfunctions", "SendTaskSuccess", {}, set()),  # Standard bills transitions only
        ("connect", "StartTaskContact", {}, set()),  # the contact center's bill, not priced
    ],
)
def test_what_a_request_adds_to_the_counts(
    service: str, operation: str, params: dict[str, Any], counted: set[str]
) -> None:
    counts = cm.Counts()
    call = {"service": service, "operation": operation, "params": params}
    cm.add_call(counts, call, cm.WriteContext({}))
    assert {name for name, value in vars(counts).items() if value} == counted


def test_item_size_counts_names_and_values() -> None:
    # "a" 1 + "xyz" 3; "nn" 2 + 123 -> 3 digits: (3 + 1) // 2 + 1 = 3; "ok" 2 + BOOL 1;
    # "m" 1 + map 3 + ("k" 1 + "v" 1 + 1) = 7
    item = {
        "a": {"S": "xyz"},
        "nn": {"N": "123"},
        "ok": {"BOOL": True},
        "m": {"M": {"k": {"S": "v"}}},
    }
    assert cm.item_size(item) == 4 + 5 + 3 + 7


def test_updated_attributes_resolves_names_and_skips_values_and_functions() -> None:
    expression = "SET #s = :a, n = if_not_exists(n, :z), attempts[0].rung = :r ADD s3 :one"
    assert cm.updated_attributes(expression, {"#s": "status"}) == {"status", "n", "attempts", "s3"}


def key_schema(*names: str) -> list[dict[str, str]]:
    kinds = ("HASH", "RANGE")
    return [{"AttributeName": name, "KeyType": kind} for name, kind in zip(names, kinds)]


# As DescribeTable gives them; the indexes project their keys only.
INVITATIONS = {
    "KeySchema": key_schema("invitation_id"),
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_link_token",
            "KeySchema": key_schema("link_token"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        {
            "IndexName": "by_sms_address",
            "KeySchema": key_schema("sms_address", "last_sms_at"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
}
COUNTERS = {"KeySchema": key_schema("series", "bucket")}


def test_write_units_of_puts_updates_and_transactions() -> None:
    context = cm.WriteContext({"inv": INVITATIONS, "agg": COUNTERS})
    put = {"TableName": "inv", "Item": {"invitation_id": {"S": "i1"}, "link_token": {"S": "t"}}}
    # a small item: 1 WRU, and its entry in by_link_token (not in by_sms_address: sparse): 1
    assert cm.write_units("PutItem", put, context) == 2
    big = {"invitation_id": {"S": "i1"}, "link_token": {"S": "t"}, "x": {"S": "y" * 1500}}
    context.stored[("inv", cm.key_of(INVITATIONS, big))] = big
    update = {
        "TableName": "inv",
        "Key": {"invitation_id": {"S": "i1"}},
        "UpdateExpression": "SET #s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    # the stored item is 1.5 KB: 2 WRU; status is in no index
    assert cm.write_units("UpdateItem", update, context) == 2
    counter = {
        "Update": {
            "TableName": "agg",
            "Key": {"series": {"S": "s#nps"}, "bucket": {"S": "2026-11-16#all"}},
            "UpdateExpression": "ADD n :one",
        }
    }
    # in a transaction: 2 x (2 for the invitation + 1 for each of two counters) = 8
    transaction = {"TransactItems": [{"Update": update}, counter, counter]}
    assert cm.write_units("TransactWriteItems", transaction, context) == 8


def test_an_update_that_sets_an_index_key_counts_the_old_entry_deleted_too() -> None:
    stored = {
        "invitation_id": {"S": "i1"},
        "sms_address": {"S": "sms#abc"},
        "last_sms_at": {"S": "2026-11-17T09:00:00Z"},
    }
    context = cm.WriteContext(
        {"inv": INVITATIONS}, {("inv", cm.key_of(INVITATIONS, stored)): stored}
    )
    update = {
        "TableName": "inv",
        "Key": {"invitation_id": {"S": "i1"}},
        "UpdateExpression": "SET sms_address = :a, last_sms_at = :t",
    }
    assert cm.write_units("UpdateItem", update, context) == 1 + 2


def test_an_index_projecting_all_attributes_counts_any_change_of_its_items() -> None:
    index = {"IndexName": "by_status", "KeySchema": key_schema("status")}  # ALL by default
    table = {"KeySchema": key_schema("invitation_id"), "GlobalSecondaryIndexes": [index]}
    stored = {"invitation_id": {"S": "i1"}, "status": {"S": "sent"}}
    context = cm.WriteContext({"t": table}, {("t", cm.key_of(table, stored)): stored})
    key = {"invitation_id": {"S": "i1"}}
    update = {"TableName": "t", "Key": key, "UpdateExpression": "SET note = :n"}
    assert cm.write_units("UpdateItem", update, context) == 1 + 1
    del stored["status"]  # sparse: an item without the index key is not in the index
    assert cm.write_units("UpdateItem", update, context) == 1


def test_read_units() -> None:
    item = {"invitation_id": {"S": "x" * 5000}}  # 13 + 5000 bytes: two 4 KB blocks
    get = {"TableName": "inv", "Key": {}}
    assert cm.read_units("GetItem", {**get, "ConsistentRead": True}, {"Item": item}) == 2
    assert cm.read_units("GetItem", get, {"Item": item}) == 1  # eventually consistent: half
    assert cm.read_units("GetItem", get, {}) == 0.5  # nothing found still costs the minimum
    keys = [{"address_key": {"S": "email#a"}}, {"address_key": {"S": "sms#b"}}]
    batch = {"RequestItems": {"sup": {"Keys": keys, "ConsistentRead": True}}}
    # one found (1 block), one missing (the minimum, 1): strongly consistent
    found = {"Responses": {"sup": [{"address_key": {"S": "email#a"}}]}}
    assert cm.read_units("BatchGetItem", batch, found) == 2
    small = {"invitation_id": {"S": "i1"}}
    query = {"TableName": "inv", "IndexName": "by_link_token"}
    # an index query: the items' sizes summed, one 4 KB block, eventually consistent
    assert cm.read_units("Query", query, {"Items": [small, small], "ScannedCount": 2}) == 0.5
    assert cm.read_units("DescribeTable", {}, {}) == 0


def test_eventbridge_bills_each_64_kb_chunk_of_an_entry() -> None:
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}"}
    assert cm.event_entry_size(entry) == 4
    assert cm.event_entry_size({**entry, "Time": "2026-11-16T07:00:00Z"}) == 18
    large = {**entry, "Detail": "x" * 70_000}
    assert cm.billed_events([entry, large]) == 1 + 2


def test_add_call_counts_sms_segments_emails_and_events() -> None:
    counts = cm.Counts()
    context = cm.WriteContext({})
    sms = {"PhoneNumber": "+358401234567", "Message": "a" * 200}  # GSM-7, 200 > 160: 2 parts
    call = {"service": "sns", "operation": "Publish", "params": sms}
    cm.add_call(counts, call, context)
    email = {"Destination": {"ToAddresses": ["a@example.com"]}, "Content": {}}
    cm.add_call(counts, {"service": "sesv2", "operation": "SendEmail", "params": email}, context)
    events = {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 2}
    cm.add_call(counts, {"service": "events", "operation": "PutEvents", "params": events}, context)
    assert (counts.sms_messages, counts.sms_segments, counts.emails, counts.events) == (1, 2, 1, 2)
    # a survey's expiry schedule is one scheduled invocation (the API request itself is free)
    schedule = {"Name": "expire-i", "ScheduleExpression": "at(2026-11-23T10:00:00)"}
    call = {"service": "scheduler", "operation": "CreateSchedule", "params": schedule}
    cm.add_call(counts, call, context)
    assert (counts.scheduled_invocations, counts.events) == (1, 2)


def test_the_mix_weights_sum_to_one() -> None:
    assert math.isclose(sum(cm.MIX.values()), 1.0)


def test_prices_file_is_dated_and_prices_every_component_the_model_uses() -> None:
    data = json.loads(cm.PRICES_FILE.read_text(encoding="utf-8"))
    assert date.fromisoformat(data["taken"])
    assert data["region"] == "eu-north-1"
    prices = data["prices"]
    for name in cm.PRICED_COUNTS:
        price = prices[name]
        assert price["usd"] > 0 and price["per"] > 0, name
        assert price["unit"] and price["source"].startswith("https://aws.amazon.com/"), name
    assert {p["component"] for p in prices.values()} >= set(cm.COMPONENTS)
    carrier = {name for name, p in prices.items() if p.get("carrier_fee")}
    assert carrier == {"sms_finland_message_part"}
    assert all(prices[name]["component"] not in cm.INFRASTRUCTURE for name in carrier)
    assert cm.cost_per_1000(cm.Counts(), data) == dict.fromkeys(cm.COMPONENTS, 0.0)


def test_the_lake_exports_requests_are_priced_elsewhere_not_counted_per_survey() -> None:
    calls = [
        {"function": "SendFunction", "service": "sesv2", "operation": "SendEmail"},
        {"function": "LakeExportFunction", "service": "s3", "operation": "PutObject"},
        {"service": "dynamodb", "operation": "UpdateItem"},  # the state machine's own
    ]
    here, elsewhere = cm.split_priced_elsewhere(calls)
    assert [c["operation"] for c in here] == ["SendEmail", "UpdateItem"]
    assert [c["operation"] for c in elsewhere] == ["PutObject"]
