"""Cost model: what 1,000 surveys cost on AWS by component, counted on the local stack.

The standard scenarios run on the local stack built from template.yaml and the ASL; every AWS
request of the functions (with its parameters and response), the lifecycle's transitions and
direct integrations, the Lambda invocations and the API requests are counted, then priced with
bench/prices.json per scenario and for a mix. The counting rules are in docs/cost.md."""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.floor import StackRequests
from bench.summary import REPO_ROOT, Row, cli, print_table, verdict

PRICES_FILE = REPO_ROOT / "bench" / "prices.json"
# USD per 1,000 surveys, everything but SMS carrier fees (issue 20; was 0.50)
TARGET_INFRASTRUCTURE_PER_1000 = 0.30
SOURCE_EVENTS = 1  # the product system's event that starts a survey (PutEvents on our bus)
COMMENT = "Toimitus oli nopea, kiitos!"

# Components, in the order of the table, as bench/prices.json names them.
INFRASTRUCTURE = (
    "Lambda",
    "Step Functions",
    "DynamoDB",
    "EventBridge",
    "SES",
    "API Gateway",
    "SQS, SNS",
)
SMS_CARRIER = "SMS carrier"
COMPONENTS = (*INFRASTRUCTURE, SMS_CARRIER)

# The count each price of bench/prices.json multiplies; the file names the price's component.
PRICED_COUNTS = {
    "lambda_requests": "lambda_invocations",
    "lambda_arm64_gb_second": "lambda_gb_seconds",
    "step_functions_standard_transition": "transitions",
    "dynamodb_write_request_unit": "write_units",
    "dynamodb_read_request_unit": "read_units",
    "eventbridge_custom_event": "events",
    "eventbridge_scheduler_invocation": "scheduled_invocations",
    "ses_outbound_email": "emails",
    "api_gateway_rest_request": "api_requests",
    "sqs_standard_request": "sqs_requests",
    "sns_publish_request": "sns_requests",
    "sms_finland_message_part": "sms_segments",
}


@dataclass
class Counts:
    """What one survey of a scenario makes that AWS bills."""

    lambda_invocations: int = 0
    lambda_gb_seconds: float = 0.0  # billed duration (whole ms) x memory
    transitions: int = 0
    write_units: float = 0.0  # DynamoDB write request units (estimated, see write_units)
    read_units: float = 0.0
    events: int = 0  # EventBridge: 64 KB chunks of PutEvents entries
    scheduled_invocations: int = 0  # EventBridge Scheduler: each one-time schedule runs once
    emails: int = 0  # SES: recipients of sent emails
    sms_messages: int = 0
    sms_segments: int = 0
    api_requests: int = 0
    sqs_requests: int = 0
    sns_requests: int = 0  # topic publishes (not SMS)


def cost_per_1000(counts: Counts, prices: Mapping[str, Any]) -> dict[str, float]:
    """USD per 1,000 surveys by component; prices: bench/prices.json."""
    per_survey = dict.fromkeys(COMPONENTS, 0.0)
    for name, count in PRICED_COUNTS.items():
        price = prices["prices"][name]
        unit = float(price["usd"]) / float(price["per"])
        per_survey[price["component"]] += getattr(counts, count) * unit
    return {component: usd * 1000 for component, usd in per_survey.items()}


def infrastructure(costs: Mapping[str, float]) -> float:
    """Everything but SMS carrier fees."""
    return sum(costs[c] for c in INFRASTRUCTURE)


def mixed(
    costs: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]
) -> dict[str, float]:
    """The weighted mean of the scenarios' costs (weights sum to 1)."""
    if not math.isclose(sum(weights.values()), 1.0):
        raise ValueError(f"mix weights sum to {sum(weights.values())}, not 1")
    return {c: sum(w * costs[s][c] for s, w in weights.items()) for c in COMPONENTS}


def lambda_gb_seconds(ms: float, memory_mb: int) -> float:
    """Lambda bills duration rounded up to the millisecond, times memory (1 GB = 1024 MB)."""
    return math.ceil(ms) / 1000 * memory_mb / 1024


WRITE_BLOCK = 1024  # one write request unit: an item up to 1 KB
READ_BLOCK = 4096  # one read request unit: 4 KB strongly consistent, 8 KB eventually
_NAME = re.compile(r"(?<![:\w#.])#?[A-Za-z_]\w*")
_NOT_ATTRIBUTES = frozenset(
    {"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"}
    | {"if_not_exists", "list_append", "attribute_exists", "attribute_not_exists"}
    | {"attribute_type", "begins_with", "contains", "size"}
)


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value as DynamoDB sizes it (numbers approximately)."""
    [(kind, v)] = value.items()
    if kind == "S":
        return len(str(v).encode("utf-8"))
    if kind == "N":
        digits = str(v).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return int(v["bytes"]) if isinstance(v, dict) else len(str(v)) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: member}) for member in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(value_size(x) + 1 for x in v)
    raise ValueError(f"not a DynamoDB attribute value: {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(len(k.encode("utf-8")) + value_size(v) for k, v in (item or {}).items())


def key_of(table: Mapping[str, Any], item: Mapping[str, Any]) -> str:
    """The item's primary key as text; table: DescribeTable's Table."""
    names = (k["AttributeName"] for k in table["KeySchema"])
    return json.dumps({k: item.get(k) for k in names}, sort_keys=True)


def updated_attributes(expression: str, names: Mapping[str, str]) -> set[str]:
    """The attributes an update expression names (the ones it changes and any it reads: an
    upper bound of what it writes)."""
    found = set()
    for token in _NAME.findall(expression):
        if token.upper() in _NOT_ATTRIBUTES or token in _NOT_ATTRIBUTES:
            continue
        found.add(names.get(token, token) if token.startswith("#") else token)
    return found


@dataclass
class WriteContext:
    """What the write estimate needs beyond the request: the tables as DescribeTable gives them
    (keys, indexes), and each written item as stored at the end of the scenario (table, key)."""

    tables: Mapping[str, Mapping[str, Any]]
    stored: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)


def written_items(operation: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(kind, request) of every item a write request writes; kind Put, Update, Delete or
    ConditionCheck, request with TableName and Item or Key."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(operation.removesuffix("Item"), dict(params))]
    if operation == "TransactWriteItems":
        return [(kind, dict(r)) for item in params["TransactItems"] for kind, r in item.items()]
    if operation == "BatchWriteItem":
        return [
            ("Put", {"TableName": table, **r["PutRequest"]})
            if "PutRequest" in r
            else ("Delete", {"TableName": table, **r["DeleteRequest"]})
            for table, requests in params["RequestItems"].items()
            for r in requests
        ]
    return []


def _index_writes(
    kind: str, request: Mapping[str, Any], table: Mapping[str, Any], stored: Any
) -> int:
    """Index entries a write changes: 1 for a new entry or a projected attribute changed, 2 for
    an update that sets an index key (DynamoDB deletes the old entry and puts the new one; an
    upper bound, a first entry costs 1)."""
    indexes = table.get("GlobalSecondaryIndexes", [])
    if kind == "ConditionCheck":
        return 0
    if kind == "Delete":
        return len(indexes)  # upper bound: the item may not be in every index
    if kind == "Put":
        item, written = request["Item"], set(request["Item"])
    else:
        item = stored or {}
        written = updated_attributes(
            str(request.get("UpdateExpression", "")), request.get("ExpressionAttributeNames", {})
        )
    units = 0
    for index in indexes:
        keys = [k["AttributeName"] for k in index["KeySchema"]]
        if keys[0] not in item:  # sparse: the item is not in this index
            continue
        projection = index.get("Projection", {})
        projected = set(projection.get("NonKeyAttributes", []))
        if projection.get("ProjectionType", "ALL") == "ALL":
            projected = written
        if written & set(keys):
            units += 1 if kind == "Put" else 2
        elif written & projected:
            units += 1
    return units


def write_units(operation: str, params: Mapping[str, Any], context: WriteContext) -> float:
    """Write request units of one request: per item ceil(size / 1 KB), the size being the
    larger of the item written and the item as stored at the end of the scenario (DynamoDB
    bills the larger of before and after; items only grow during a survey); twice that inside
    a transaction; plus the index entries it changes (_index_writes)."""
    factor = 2 if operation == "TransactWriteItems" else 1
    units = 0.0
    for kind, request in written_items(operation, params):
        table = context.tables[request["TableName"]]
        key_source = request.get("Item", request.get("Key", {}))
        stored = context.stored.get((request["TableName"], key_of(table, key_source)))
        size = max(item_size(request.get("Item")), item_size(stored), item_size(key_source))
        units += factor * max(1, math.ceil(size / WRITE_BLOCK))
        units += _index_writes(kind, request, table, stored)
    return units


def _read_blocks(size: float) -> int:
    return max(1, math.ceil(size / READ_BLOCK))


def read_units(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """Read request units of one request: 1 per 4 KB strongly consistent, half eventually
    consistent, twice in a transaction. GetItem and BatchGetItem round each item (a missing
    one costs the minimum); Query and Scan round the sum of the items read."""
    if operation == "GetItem":
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        return factor * _read_blocks(item_size(response.get("Item")))
    if operation == "BatchGetItem":
        units = 0.0
        for table, spec in params["RequestItems"].items():
            factor = 1.0 if spec.get("ConsistentRead") else 0.5
            found = response.get("Responses", {}).get(table, [])
            missing = max(0, len(spec["Keys"]) - len(found))
            units += factor * (sum(_read_blocks(item_size(i)) for i in found) + missing)
        return units
    if operation in ("Query", "Scan"):
        factor = 1.0 if params.get("ConsistentRead") and "IndexName" not in params else 0.5
        items = response.get("Items", [])
        size = float(sum(item_size(i) for i in items))
        scanned = int(response.get("ScannedCount", len(items)))
        if items and scanned > len(items):  # a filter dropped some after they were read
            size *= scanned / len(items)
        return factor * _read_blocks(size)
    if operation == "TransactGetItems":
        return 2.0 * sum(_read_blocks(item_size(r.get("Item"))) for r in response["Responses"])
    return 0.0


EVENT_CHUNK = 64 * 1024


def event_entry_size(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge bills it: Time (14 bytes), Source, DetailType,
    Detail and Resources, UTF-8."""
    detail = entry.get("Detail", "")
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    parts = [entry.get("Source", ""), entry.get("DetailType", ""), detail]
    parts += list(entry.get("Resources", []))
    return (14 if entry.get("Time") else 0) + sum(len(str(p).encode("utf-8")) for p in parts)


def billed_events(entries: Iterable[Mapping[str, Any]]) -> int:
    return sum(max(1, math.ceil(event_entry_size(e) / EVENT_CHUNK)) for e in entries)


def email_recipients(params: Mapping[str, Any]) -> int:
    destination = params.get("Destination", {})
    listed = sum(
        len(destination.get(k, [])) for k in ("ToAddresses", "CcAddresses", "BccAddresses")
    )
    return max(1, listed)


def sms_segments(text: str) -> int:
    from survey_core.messages.sms import sms_size

    return sms_size(text).segments


def add_call(counts: Counts, call: Mapping[str, Any], context: WriteContext) -> None:
    """Add what one recorded request makes that AWS bills. Other requests are free (Step
    Functions API calls: Standard bills transitions) or not priced here (Amazon Connect tasks:
    the contact center's bill)."""
    service, operation = call["service"], call["operation"]
    params, response = call.get("params", {}), call.get("response") or {}
    if service == "dynamodb":
        counts.write_units += write_units(operation, params, context)
        counts.read_units += read_units(operation, params, response)
    elif service == "events" and operation == "PutEvents":
        counts.events += billed_events(params.get("Entries", []))
    elif service == "scheduler" and operation == "CreateSchedule":
        # A one-time schedule (a survey's expiry) runs once; API requests are not billed.
        counts.scheduled_invocations += 1
    elif service in ("ses", "sesv2") and operation in ("SendEmail", "SendRawEmail"):
        counts.emails += email_recipients(params)
    elif service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
        counts.sms_messages += 1
        counts.sms_segments += sms_segments(str(params.get("Message", "")))
    elif service == "sns" and operation == "Publish":
        counts.sns_requests += 1  # to a topic
    elif service == "sqs" and not operation.startswith(("Get", "List")):
        counts.sqs_requests += 1


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    ms: float


# Functions whose invocations are priced by another model, not per survey here. The lake export
# reads the tables' streams: in AWS one batch a minute (MaximumBatchingWindowInSeconds) holds
# every survey's records of that minute, while the scenarios here, one survey at a time on the
# local stack, invoke it once per record or two. bench.analytics prices it per month and per
# million answers (docs/analytics.md), with its S3 PUTs, which this model never priced.
PRICED_ELSEWHERE = {"LakeExportFunction": "bench.analytics (docs/analytics.md)"}


def priced(invocations: Iterable[Invocation]) -> list[Invocation]:
    return [i for i in invocations if i.function not in PRICED_ELSEWHERE]


def split_priced_elsewhere(
    calls: Iterable[Mapping[str, Any]],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The recorded requests priced here, and those of functions priced elsewhere: the lake
    export's S3 PUTs, one or more per stream batch, would vary here with how the local stream
    batched its records."""
    listed = list(calls)
    return (
        [c for c in listed if c.get("function") not in PRICED_ELSEWHERE],
        [c for c in listed if c.get("function") in PRICED_ELSEWHERE],
    )


def add_invocations(
    counts: Counts,
    invocations: Iterable[Invocation],
    memory_mb: Mapping[str, int],
    billed_ms: float | None = None,
) -> None:
    for invocation in priced(invocations):
        counts.lambda_invocations += 1
        ms = invocation.ms if billed_ms is None else billed_ms
        counts.lambda_gb_seconds += lambda_gb_seconds(ms, memory_mb[invocation.function])


@dataclass(frozen=True)
class Scenario:
    key: str  # the column heading
    name: str
    weight: float  # share of surveys in the mix
    answer_after: int | None = None  # messages received before the customer answers
    score: int = 9


SCENARIOS = (
    Scenario("invited", "answered after the invitation", 0.15, answer_after=1),
    Scenario("detractor", "detractor, answered after the invitation", 0.05, 1, score=3),
    Scenario("reminded", "answered after the SMS reminder", 0.10, answer_after=2),
    Scenario("unanswered", "never answered (expires)", 0.70),
)
MIX = {s.key: s.weight for s in SCENARIOS}
# Run first and not priced: every function's first calls (connections, templates) are made here,
# so the scenarios above are measured warm, as most invocations of a busy stack run.
WARM_UP = Scenario("warm-up", "warm-up: a detractor answered after the SMS reminder", 0, 2, 3)
EXPECTED_STATUS = {"unanswered": "expired"}  # the others: answered
START = datetime(2026, 11, 16, 7, 0, tzinfo=UTC).isoformat()  # Monday 09:00 Helsinki


def _customer(info: dict[str, Any], scenario: Scenario) -> Any:
    """A ladder scenario whose customer answers as on the survey page, each request timed: the
    one-tap score link (GET: the page opens, nothing stored), then the form (POST: the answer)."""
    from infra.local.ladder import LadderScenario, Script
    from infra.local.scenario import http

    class Customer(LadderScenario):
        api_ms: list[float]

        def _answer(self) -> tuple[int, str]:
            link = self._link("s")
            status, body = 0, ""
            for method, url, form in (
                ("GET", f"{link}?score={scenario.score}", None),
                ("POST", link, {"score": str(scenario.score), "comment": COMMENT}),
            ):
                began = time.perf_counter()
                status, body = http(method, url, form)
                self.api_ms.append((time.perf_counter() - began) * 1000)
                if status != 200:
                    break
            return status, body

    customer = Customer(info, Script(scenario.name, answer_after=scenario.answer_after))
    customer.api_ms = []
    return customer


def _by_operation(calls: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(f"{c['service']}.{c['operation']}" for c in calls))


class CostBench:
    """Measures one survey at a time on a running stack, from what the stack recorded."""

    def __init__(self, info: dict[str, Any], billed_ms: float | None) -> None:
        from infra.local.scenario import LocalStackClient

        self.info, self.billed_ms = info, billed_ms
        self.local = LocalStackClient(info)
        self.dynamodb = self.local.client("dynamodb")
        self.tables = {
            name: self.dynamodb.describe_table(TableName=name)["Table"]
            for name in self.dynamodb.list_tables()["TableNames"]
        }
        self.requests = StackRequests(self.local)  # what the stack made before: not counted
        functions = self.local.client("lambda").list_functions()["Functions"]
        names = {f["FunctionName"]: int(f["MemorySize"]) for f in functions}
        self.memory_mb = {logical: names[name] for logical, name in info["functions"].items()}
        sfn = self.local.client("stepfunctions")
        arn = info["outputs"]["SurveyLifecycleArn"]
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        self.states = json.loads(definition)["States"]

    def measure(self, scenario: Scenario) -> tuple[Counts, dict[str, Any]]:
        """One survey of the scenario: its counts, and its figures as the JSON has them."""
        first_invocation = len(self.local.control("invocations")["invocations"])
        customer = _customer(self.info, scenario)
        outcome = customer.run()
        if outcome.status != EXPECTED_STATUS.get(scenario.key, "answered"):
            raise RuntimeError(f"{scenario.name}: the invitation ended {outcome.status!r}")
        made = self.requests.read()
        calls, elsewhere = split_priced_elsewhere(made)
        lifecycle_calls = self._lifecycle_calls(outcome.states, outcome.invitation_id)
        context = self._write_context([*calls, *lifecycle_calls])
        counts = Counts(
            transitions=outcome.transitions, events=SOURCE_EVENTS, api_requests=len(customer.api_ms)
        )
        for call in [*calls, *lifecycle_calls]:
            add_call(counts, call, context)
        invocations = [
            Invocation(i["function"], float(i.get("ms", 0.0)))
            for i in self.local.control("invocations")["invocations"][first_invocation:]
        ] + [Invocation("CollectFunction", ms) for ms in customer.api_ms]
        add_invocations(counts, invocations, self.memory_mb, self.billed_ms)
        return counts, {
            "name": scenario.name,
            "weight": scenario.weight,
            "status": outcome.status,
            "messages_emails_plus_sms": f"{len(outcome.emails)} + {len(outcome.sms)}",
            "counts_per_survey": asdict(counts),
            "lambda_invocations_by_function": dict(Counter(i.function for i in invocations)),
            "lambda_measured_ms": round(sum(i.ms for i in priced(invocations)), 1),
            "requests_by_functions": _by_operation(calls),
            "requests_by_state_machine": _by_operation(lifecycle_calls),
            "requests_priced_elsewhere": _by_operation(elsewhere),
        }

    def _lifecycle_calls(self, states: list[str], invitation_id: str) -> list[dict[str, Any]]:
        """The requests of the states entered that call a service directly (not Lambda), with
        their parameters as the ASL gives them (paths: the invitation id, or a timestamp)."""
        calls = []
        for name in states:
            resource = str(self.states[name].get("Resource", ""))
            match = re.fullmatch(r"arn:aws:states:::(\w+):(\w+)", resource)
            if not match or match[1] == "lambda":
                continue
            service, action = match[1], match[2][0].upper() + match[2][1:]
            params = _resolve(self.states[name].get("Parameters", {}), invitation_id)
            calls.append({"service": service, "operation": action, "params": params})
        return calls

    def _write_context(self, calls: list[Mapping[str, Any]]) -> WriteContext:
        context = WriteContext(self.tables)
        for call in (c for c in calls if c["service"] == "dynamodb"):
            for _, request in written_items(call["operation"], call.get("params", {})):
                name = request["TableName"]
                key = key_of(self.tables[name], request.get("Item", request.get("Key", {})))
                if (name, key) not in context.stored:
                    item = self.dynamodb.get_item(
                        TableName=name, Key=json.loads(key), ConsistentRead=True
                    )
                    context.stored[(name, key)] = item.get("Item")
        return context


def _resolve(value: Any, invitation_id: str) -> Any:
    """ASL Parameters with their paths filled in: "$.invitationId" and anything else (a time)."""
    if isinstance(value, list):
        return [_resolve(v, invitation_id) for v in value]
    if not isinstance(value, dict):
        return value
    resolved = {}
    for key, item in value.items():
        if key.endswith(".$"):
            filled = invitation_id if item == "$.invitationId" else "2026-11-23T07:00:00.000Z"
            resolved[key[:-2]] = filled
        else:
            resolved[key] = _resolve(item, invitation_id)
    return resolved


def _usd(value: float) -> str:
    return f"{value:.4f}" if value < 0.01 else f"{value:.3f}" if value < 10 else f"{value:.2f}"


def run(time_scale: float = 14400.0, billed_ms: float | None = None) -> dict[str, Any]:
    """billed_ms: bill every Lambda invocation this long instead of its measured run time."""
    from infra.local.process import running_stack

    prices = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    with running_stack(time_scale=time_scale, start_time=START, log_name="bench-cost.log") as info:
        bench = CostBench(info, billed_ms)
        bench.measure(WARM_UP)
        measured = {s.key: bench.measure(s) for s in SCENARIOS}
    costs = {key: cost_per_1000(counts, prices) for key, (counts, _) in measured.items()}
    mix = mixed(costs, MIX)
    infra_mix = infrastructure(mix)
    scenarios = {key: figures for key, (_, figures) in measured.items()}
    for key, figures in scenarios.items():
        figures["usd_per_1000"] = {c: round(v, 6) for c, v in costs[key].items()}
        figures["infrastructure_usd_per_1000"] = round(infrastructure(costs[key]), 6)
    _print_costs({**costs, "mix": mix}, prices)
    return {
        "prices": {
            "file": "bench/prices.json",
            "taken": prices["taken"],
            "region": prices["region"],
        },
        "target_infrastructure_usd_per_1000": TARGET_INFRASTRUCTURE_PER_1000,
        "billed_ms_per_invocation": billed_ms,
        "scenarios": scenarios,
        "mix": {
            "weights": MIX,
            "usd_per_1000": {c: round(v, 6) for c, v in mix.items()},
            "infrastructure_usd_per_1000": round(infra_mix, 6),
            "total_usd_per_1000": round(sum(mix.values()), 6),
            "verdict": verdict(infra_mix, TARGET_INFRASTRUCTURE_PER_1000),
        },
    }


def _print_costs(costs: dict[str, dict[str, float]], prices: Mapping[str, Any]) -> None:
    """USD per 1,000 surveys by component; costs: by scenario, then the mix."""
    columns = list(costs.values())
    rows = [(c, *(_usd(column[c]) for column in columns)) for c in INFRASTRUCTURE]
    rows.append(("infrastructure", *(_usd(infrastructure(column)) for column in columns)))
    rows.append(("SMS carrier fees", *(_usd(column[SMS_CARRIER]) for column in columns)))
    rows.append(("total", *(_usd(sum(column.values())) for column in columns)))
    title = f"USD per 1,000 surveys by component ({prices['region']} prices of {prices['taken']})"
    print_table(title, ("component", *costs), rows, "l" + "r" * len(costs))


def summary(result: dict[str, Any]) -> list[Row]:
    """AWS requests and state transitions per survey by scenario, and the mix's USD."""
    rows = []
    for scenario in result["scenarios"].values():
        by_functions = sum(scenario["requests_by_functions"].values())
        by_machine = sum(scenario["requests_by_state_machine"].values())
        counts = scenario["counts_per_survey"]
        rows.append(
            Row(
                "cost_model",
                f"AWS requests per survey: {scenario['name']}",
                f"{by_functions + by_machine} ({by_functions} by functions + {by_machine} by "
                f"the state machine; {counts['lambda_invocations']} invocations, "
                f"{counts['transitions']} transitions)",
                number=by_functions + by_machine,
                unit="requests",
            )
        )
    mix = result["mix"]
    rows.append(
        Row(
            "cost_model",
            "USD per 1,000 surveys, infrastructure (mix)",
            f"{mix['infrastructure_usd_per_1000']:.3f} (with SMS carrier fees "
            f"{mix['total_usd_per_1000']:.2f})",
            f"<= {result['target_infrastructure_usd_per_1000']:.2f}",
            mix["verdict"],
            mix["infrastructure_usd_per_1000"],
            "USD",
        )
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(run))
