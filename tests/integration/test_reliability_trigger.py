"""Reliability of the trigger under repeated and malformed input, through its Lambda handler
against the template's tables, queues and state machine in moto (mock_aws, in process).

- 1,000 deliveries of one purchase (the very same event, and the same order re-sent with 1,000
  new event ids) start one survey: one invitation, one execution, 999 "duplicate" decisions,
  and the metrics say so.
- 1,000 generated malformed events each land in the rejected-events queue (the trigger's dead
  letter for input that breaks its contract, docs/events.md) with a reason naming what is
  wrong; the handler never raises; valid events delivered among them all get their invitation.
- Inputs that once crashed the trigger (dates near year 1 or 9999, control characters in an
  unexpected key, 120 KB of non-ASCII text) are rejected with a reason SQS accepts
  (EXTREME_INPUTS). The generator itself keeps huge values within HUGE_BYTES.

moto in process and threads: moto's DynamoDB backend is plain dicts, so the deployment fixture
runs its requests one at a time (DynamoDB's own per-request atomicity); its Step Functions
StartExecution checks for an execution of the same name and then appends one, without a lock,
so the duplicate test serializes that call too (Step Functions makes it atomic). With those two
locks the handler code itself runs concurrently. The concurrent batch checks decisions, tables
and executions; the metric count is checked on the sequential deliveries only, because
Powertools keeps one metric set per process (shared by all Metrics instances), and one Lambda
sandbox never runs two invocations at once.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO_ROOT, Deployment, example_event
from tests.integration.helpers import emf_metrics, lambda_context

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
CLOCK = f"{NOW.isoformat()}|0|0"  # scale 0: the handlers' clock stands still
DELIVERIES = 1000
CONCURRENT = 200  # of the DELIVERIES, decided by WORKERS sandboxes at once
WORKERS = 8
MALFORMED_EXAMPLES = 1000
# The rejected-events queue's limit as the template sets it (set on moto's queue explicitly).
SQS_DEFAULT_MAX_MESSAGE_SIZE = 1_048_576


# ---------------------------------------------------------------- shared helpers


def _trigger(deployment: Deployment) -> ModuleType:
    return deployment.load("TriggerFunction", LOCAL_CLOCK=CLOCK)


def _scan(deployment: Deployment, logical_id: str) -> list[dict[str, Any]]:
    pages = (
        deployment.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=deployment.physical_id(logical_id), ConsistentRead=True)
    )
    return [item for page in pages for item in page["Items"]]


def _executions(deployment: Deployment) -> list[dict[str, Any]]:
    pages = (
        deployment.client("stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=deployment.outputs["SurveyLifecycleArn"])
    )
    return [execution for page in pages for execution in page["executions"]]


def _use_aws_queue_size_limit(deployment: Deployment) -> None:
    deployment.client("sqs").set_queue_attributes(
        QueueUrl=deployment.outputs["RejectedEventsQueueUrl"],
        Attributes={"MaximumMessageSize": str(SQS_DEFAULT_MAX_MESSAGE_SIZE)},
    )


def _rejected_messages(deployment: Deployment) -> list[dict[str, Any]]:
    """Every message in the rejected-events queue (received once, hidden, not deleted)."""
    sqs = deployment.client("sqs")
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=deployment.outputs["RejectedEventsQueueUrl"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=900,
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        found.extend(batch)
    return found


def sqs_legal(text: str) -> bool:
    """Whether SQS takes the text as a message body or String attribute value: #x9 #xA #xD
    #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. moto does not check it; AWS refuses the
    SendMessage."""
    return all(
        c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"
        for c in text
    )


# ---------------------------------------------------------------- 1,000 duplicate deliveries


@pytest.fixture
def atomic_start_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step Functions' StartExecution is atomic per name; moto's check-then-append is not."""
    from moto.stepfunctions.models import StateMachine

    lock = threading.Lock()
    original = StateMachine.start_execution

    def start_execution(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(StateMachine, "start_execution", start_execution)


def _purchase() -> dict[str, Any]:
    event = example_event("purchase-completed.json")
    event["detail"]["orderId"] = "A-dup-1"
    event["detail"]["customer"]["id"] = "cust-dup-1"
    return event


def _redelivery(event: dict[str, Any], number: int, new_ids: bool) -> dict[str, Any]:
    """The event as delivery `number` carries it: EventBridge's retry keeps the id; a producer
    re-sending the order puts a new event with a new id and time."""
    delivered: dict[str, Any] = json.loads(json.dumps(event))
    if new_ids:
        delivered["id"] = f"0b1f3c8e-0000-4000-8000-{number:012d}"
        delivered["time"] = f"2026-11-16T08:{number // 60 % 60:02d}:{number % 60:02d}Z"
    return delivered


@pytest.mark.usefixtures("atomic_start_execution")
@pytest.mark.parametrize("new_ids", [False, True], ids=["same-event-id", "new-event-ids"])
def test_a_thousand_deliveries_of_one_purchase_start_one_survey(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], new_ids: bool
) -> None:
    # Given WORKERS warm trigger sandboxes and one purchase
    sandboxes = [_trigger(deployment) for _ in range(WORKERS)]
    event = _purchase()
    numbers = iter(range(CONCURRENT))
    numbers_lock = threading.Lock()
    start_together = threading.Barrier(WORKERS, timeout=120)

    def sandbox_loop(sandbox: ModuleType) -> list[dict[str, Any]]:
        start_together.wait()  # the first deliveries race for the invitation
        decided: list[dict[str, Any]] = []
        while True:
            with numbers_lock:
                number = next(numbers, None)
            if number is None:
                return decided
            result = sandbox.lambda_handler(_redelivery(event, number, new_ids), lambda_context())
            decided.extend(result["decisions"])

    # When the first CONCURRENT deliveries are decided by all sandboxes at once
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        concurrent = [d for batch in pool.map(sandbox_loop, sandboxes) for d in batch]
    capsys.readouterr()
    # and the rest arrive one after another
    sequential = [
        decision
        for number in range(CONCURRENT, DELIVERIES)
        for decision in sandboxes[number % WORKERS].lambda_handler(
            _redelivery(event, number, new_ids), lambda_context()
        )["decisions"]
    ]
    stdout = capsys.readouterr().out

    # Then one delivery started the survey and 999 were duplicates of the same invitation
    decisions = concurrent + sequential
    assert len(decisions) == DELIVERIES
    assert Counter(d["outcome"] for d in decisions) == {"started": 1, "duplicate": DELIVERIES - 1}
    assert [d["outcome"] for d in concurrent].count("started") == 1  # the race was decided
    [invitation_id] = {d["invitation_id"] for d in decisions}
    # One invitation, pending, made from one of the deliveries
    [invitation] = _scan(deployment, "InvitationsTable")
    assert invitation["invitation_id"]["S"] == invitation_id
    assert invitation["status"]["S"] == "pending"
    event_ids = {_redelivery(event, n, new_ids)["id"] for n in range(DELIVERIES)}
    assert invitation["source_event_id"]["S"] in event_ids
    # One execution, named after it, with the input derived from the stored invitation
    [execution] = _executions(deployment)
    assert execution["name"] == invitation_id
    described = deployment.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"]
    )
    assert json.loads(described["input"])["sendAt"] == invitation["send_at"]["S"]
    # One customer; nothing rejected
    assert [c["customer_id"]["S"] for c in _scan(deployment, "CustomersTable")] == ["cust-dup-1"]
    assert _rejected_messages(deployment) == []
    # Each sequential delivery published one metric blob, each counting one duplicate
    totals, blobs = emf_metrics(stdout)
    assert blobs == DELIVERIES - CONCURRENT
    assert totals == {"DuplicateEvents": DELIVERIES - CONCURRENT}


# ---------------------------------------------------------------- 1,000 malformed events
#
# Mutations are invalid by construction against the JSON Schemas in the layer: each one breaks
# a rule the schema states for the field it touches (drop a required field, a value of another
# JSON type, a string that cannot match the field's pattern / enum / const / date-time format,
# a length or minimum outside the bounds, a property the schema does not allow, an object
# replaced by garbage that lacks its required fields or has a foreign key), and mutations of
# one event never touch overlapping paths, so none can repair another. The project's validator
# (survey_core.events.contracts.validate_event) is then asked as a cross-check, not as the oracle: a
# mutation it accepted would be a bug in it (or in this generator), never a silent skip.

SCHEMA_DIR = REPO_ROOT / "layers" / "survey_core" / "survey_core" / "events" / "schemas"
COMMON_DEFS: dict[str, Any] = json.loads(
    (SCHEMA_DIR / "common.schema.json").read_text(encoding="utf-8")
)["$defs"]
VALID_BASES = {
    "Purchase Completed": "purchase-completed.json",
    "Service Contact Closed": "service-contact-closed.json",
    "Customer Activity": "customer-activity.json",
    "Customer Inactive": "customer-inactive.json",
    "Survey Requested": "survey-requested.json",
}
# Invalid examples: (file, what is already wrong (path below detail), what the reason says)
INVALID_SEEDS = {
    "invalid/purchase-completed-bad-time.json": (("occurredAt",), ("detail.occurredAt: ",)),
    "invalid/purchase-completed-missing-customer.json": (
        ("customer",),
        ("detail: missing required", "customer"),
    ),
}
OUTBOUND_TYPES = [
    "Survey Invitation Sent",
    "Survey Response Received",
    "Survey Escalated",
    "Survey Expired",
]
SENTINEL = "\u00abLEAK-7f3\u00bb"  # in every bad string value; never in a reason
HUGE_BYTES = 60_000  # budget of one huge value, JSON-escaped: events stay under 256 KB
MISSING = object()
IMPOSSIBLE_DATE_TIMES = [  # the schema's pattern passes, RFC 3339 (format) fails
    "2026-02-30T10:00:00Z",
    "2026-11-16T24:00:00Z",
    "2026-11-16T07:60:00Z",
    "2026-11-16T07:58:61Z",
    "2026-11-16T07:58:00",
    "2026-11-16Tmorning",
    "2026-13-01T00:00:00Z",
    "2026-00-10T07:58:00Z",
    "2026-11-16T07:58:00+25:00",
    "2026-11-16T07:58:00.Z",
    "2026-11-16T07:58:00 Z",
]


def _schema(detail_type: str) -> dict[str, Any]:
    name = detail_type.lower().replace(" ", "-")
    schema: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return schema


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its $ref (always into common.schema.json's $defs) merged in."""
    while "$ref" in node:
        name = node["$ref"].partition("#")[2].removeprefix("/$defs/")
        node = {**{k: v for k, v in node.items() if k != "$ref"}, **COMMON_DEFS[name]}
    return node


@dataclass(frozen=True)
class Slot:
    path: tuple[str, ...]  # below detail; () is detail itself
    schema: dict[str, Any]
    required: bool


def _slots(detail: dict[str, Any], schema: dict[str, Any]) -> list[Slot]:
    """Every field present in detail that the schema describes, detail itself first."""
    found: list[Slot] = []

    def walk(value: Any, node: dict[str, Any], path: tuple[str, ...], required: bool) -> None:
        node = _resolve(node)
        found.append(Slot(path, node, required))
        if isinstance(value, dict):
            for name, child in node.get("properties", {}).items():
                if name in value:
                    walk(value[name], child, (*path, name), name in node.get("required", []))

    walk(detail, schema, (), False)
    return found


def dotted(path: tuple[str, ...]) -> str:
    return "".join(["detail", *(f".{name}" for name in path)])


@dataclass(frozen=True)
class Mutation:
    kind: str
    target: tuple[str, ...]  # the key set or deleted (for "extra": the new key)
    value: Any
    markers: tuple[str, ...]  # each must be in the reason


@dataclass
class Malformed:
    event: dict[str, Any]
    markers: list[tuple[str, ...]] = field(default_factory=list)  # one entry per mutation
    kinds: list[str] = field(default_factory=list)


# Keys reach the reason ("unexpected <key>"); these stay within what SQS takes as an attribute
# (test_known_crash_inputs has one that does not).
KEYS = st.text(
    st.characters(
        exclude_categories=("Cs", "Cc"),
        exclude_characters="\ufffe\uffff",
        include_characters="\t\n\r",
    ),
    min_size=1,
    max_size=24,
)
# Values never reach the reason: any text, control characters and lone surrogates included.
TEXT = st.text(max_size=20) | st.sampled_from(["\x00", "\ud800", "\udfff", "\x1b[2J", "\u202e"])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)
BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "string": TEXT,
    "integer": st.integers(-(10**30), 10**30),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(JSON, max_size=4),
    "object": st.dictionaries(KEYS, JSON, max_size=4),
}


def _other_type(json_type: str) -> st.SearchStrategy[Any]:
    """A JSON value that is not of json_type (an integer is a number; a boolean is neither)."""
    excluded = {json_type, "integer"} if json_type == "number" else {json_type}
    return st.one_of([s for name, s in BY_TYPE.items() if name not in excluded])


@st.composite
def _bad_text(draw: st.DrawFn, pattern: str | None = None) -> str:
    """A string no pattern, enum, const or date-time of the contracts accepts: it starts with
    the sentinel (no digit, not in any enum) and has a space (ids allow none)."""
    text = f"{SENTINEL} {draw(TEXT)}"
    assert pattern is None or not re.search(pattern, text)
    return text


@st.composite
def _huge(draw: st.DrawFn, longer_than: int) -> str:
    """Over longer_than characters; up to HUGE_BYTES once JSON-escaped."""
    chunk = draw(st.text(min_size=1, max_size=8))
    escaped = max(len(json.dumps(c)) - 2 for c in chunk)  # \u escapes: up to 12 bytes a char
    ceiling = max(longer_than + 1, HUGE_BYTES // escaped)
    length = draw(
        st.sampled_from([longer_than + 1, longer_than + 2]) | st.integers(longer_than + 1, ceiling)
    )
    text = SENTINEL + chunk * (length // len(chunk) + 1)
    assert len(text) > longer_than
    return text


@st.composite
def _garbage_object(draw: st.DrawFn, node: dict[str, Any]) -> Any:
    """Not an object, or an object without the node's required fields (or, when nothing is
    required, with a property the node does not allow)."""
    if draw(st.booleans()):
        return draw(_other_type("object") | st.lists(JSON, min_size=1, max_size=3))
    required = set(node.get("required", []))
    allowed = set(node.get("properties", {}))
    garbage: dict[str, Any] = draw(
        st.dictionaries(KEYS.filter(lambda k: k not in required), JSON, max_size=4)
    )
    if not required:
        garbage[draw(KEYS.filter(lambda k: k not in allowed))] = draw(JSON)
    return garbage


def _not_the_const(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    const = node["const"]
    return (
        st.sampled_from(["2", "0", "1 ", " 1", "01", "1.0", "v1", ""])
        | st.integers(-5, 5)
        | st.none()
        | _bad_text()
    ).filter(lambda v: v != const or type(v) is not type(const))


def _not_in_enum(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    near = [v for e in node["enum"] for v in (e.upper(), e.lower() + " ", e.replace("-", "_"))]
    return st.sampled_from([v for v in near if v not in node["enum"]]) | _bad_text() | st.integers()


def _below_minimum(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    low = node["minimum"]
    return st.integers(max_value=low - 1) | st.floats(
        max_value=low - 1e-9, allow_nan=False, allow_infinity=False
    )


# Which rule of a field's schema a mutation breaks: (does the node state it, a breaking value)
BREAKS: dict[str, tuple[Callable[[dict[str, Any]], bool], Callable[..., Any]]] = {
    "type": (lambda n: "type" in n, lambda n: _other_type(n["type"])),
    "const": (lambda n: "const" in n, _not_the_const),
    "enum": (lambda n: "enum" in n, _not_in_enum),
    "too-short": (lambda n: n.get("minLength", 0) >= 1, lambda n: st.just("")),
    "too-long": (lambda n: "maxLength" in n, lambda n: _huge(n["maxLength"])),
    "pattern": (lambda n: "pattern" in n, lambda n: _bad_text(n["pattern"])),
    "date-time": (
        lambda n: n.get("format") == "date-time",
        lambda n: st.sampled_from(IMPOSSIBLE_DATE_TIMES) | _bad_text(n.get("pattern")),
    ),
    "minimum": (lambda n: "minimum" in n, _below_minimum),
    "garbage": (lambda n: n.get("type") == "object", _garbage_object),
}


def _operations(slot: Slot) -> list[str]:
    operations = []
    if slot.path:  # detail itself: only the envelope mutations replace it
        operations += [kind for kind, (states, _) in BREAKS.items() if states(slot.schema)]
        if slot.required:
            operations.append("drop")
    if slot.schema.get("additionalProperties") is False:
        operations.append("extra")
    return operations


@st.composite
def _mutation(draw: st.DrawFn, slot: Slot) -> Mutation:
    node, path = slot.schema, slot.path
    kind = draw(st.sampled_from(_operations(slot)))
    if kind == "drop":
        return Mutation(kind, path, MISSING, (f"{dotted(path[:-1])}: missing required", path[-1]))
    if kind == "extra":
        allowed = set(node.get("properties", {}))
        key = draw(KEYS.filter(lambda k: k not in allowed))
        return Mutation(kind, (*path, key), draw(JSON), (f"{dotted(path)}: unexpected",))
    breaking_value = BREAKS[kind][1]
    return Mutation(kind, path, draw(breaking_value(node)), (f"{dotted(path)}: ",))


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return a[: len(b)] == b or b[: len(a)] == a


def _apply(detail: dict[str, Any], mutation: Mutation) -> None:
    *parents, key = mutation.target
    parent = detail
    for name in parents:
        parent = parent[name]
    if mutation.value is MISSING:
        del parent[key]
    else:
        parent[key] = mutation.value


@st.composite
def _envelope_mutation(draw: st.DrawFn, event: dict[str, Any]) -> Malformed:
    """A detail-type outside the five inbound ones, or a detail that is not an object."""
    if draw(st.booleans()):
        value = draw(
            st.just(MISSING)
            | st.sampled_from(
                OUTBOUND_TYPES
                + [t.lower() for t in VALID_BASES]
                + [f" {t}" for t in VALID_BASES]
                + ["PurchaseCompleted", "Purchase  Completed", ""]
            )
            | st.text(max_size=128).filter(lambda t: t not in VALID_BASES)
            | _other_type("string")
        )
        name, markers = "detail-type", ("detail-type: ",)
    else:
        value = draw(st.just(MISSING) | _other_type("object") | st.lists(JSON, max_size=3))
        name, markers = "detail", ("detail: must be a JSON object",)
    if value is MISSING:
        del event[name]
    else:
        event[name] = value
    return Malformed(event, [markers], [name])


@st.composite
def malformed_events(draw: st.DrawFn) -> Malformed:
    base = draw(st.sampled_from(sorted(VALID_BASES.values()) + sorted(INVALID_SEEDS)))
    event = example_event(base)
    if base in INVALID_SEEDS:
        footprint, markers = INVALID_SEEDS[base]
        malformed = Malformed(event, [markers], ["seed"])
        footprints: list[tuple[str, ...]] = [footprint]
        count = draw(st.integers(0, 2))
    else:
        if draw(st.integers(0, 5)) == 0:
            return draw(_envelope_mutation(event))
        malformed = Malformed(event)
        footprints, count = [], draw(st.integers(1, 3))
    slots = _slots(event["detail"], _schema(event["detail-type"]))
    for _ in range(count):
        mutation = draw(_mutation(draw(st.sampled_from(slots))))
        if any(_overlap(mutation.target, taken) for taken in footprints):
            continue  # would touch what another mutation changed: skipped, never combined
        _apply(event["detail"], mutation)
        footprints.append(mutation.target)
        malformed.markers.append(mutation.markers)
        malformed.kinds.append(mutation.kind)
    assert malformed.markers  # the first mutation of a valid base always applies
    return malformed


def _valid_event(detail_type: str, number: int) -> dict[str, Any]:
    """A valid event with its own business key and customer: creates one invitation."""
    event = example_event(VALID_BASES[detail_type])
    event["id"] = f"valid-{number:04d}"
    detail = event["detail"]
    detail["customer"]["id"] = f"valid-cust-{number}"
    for key in ("orderId", "contactId", "requestId"):
        if key in detail:
            detail[key] = f"valid-{number}"
    return event


def _reason_names_the_problem(reason: str, malformed: Malformed) -> bool:
    """Every mutation is named (path and rule); when the reason is cut after ten errors, at
    least one is."""
    named = [all(marker in reason for marker in markers) for markers in malformed.markers]
    return any(named) if re.search(r"; and \d+ more$", reason) else all(named)


@dataclass
class Ledger:
    malformed: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # by id
    valid: dict[str, str] = field(default_factory=dict)  # invitation id -> event id
    started: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    kinds: Counter[str] = field(default_factory=Counter)


def test_a_thousand_malformed_events_are_rejected_with_reasons_and_none_lost(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    """Generated malformed events, with valid ones in between, through the handler. Each
    rejected event's message is taken from the queue (and deleted) right after its delivery:
    moto recounts a queue's messages on every SendMessage, so a queue of 1,000 would make the
    run quadratic."""
    _use_aws_queue_size_limit(deployment)
    sqs = deployment.client("sqs")
    queue_url = deployment.outputs["RejectedEventsQueueUrl"]
    trigger = _trigger(deployment)
    # the validator of the handler's own copy of survey_core (imported with it)
    contracts = importlib.import_module("survey_core.events.contracts")
    ledger = Ledger()
    valid_kinds = [d for d in VALID_BASES if d != "Customer Activity"]  # these invite

    def queued() -> list[dict[str, Any]]:
        # One receive: moto answers with every visible message up to ten (at most one is
        # waiting here), and the loop's second, empty receive was a quarter of this test.
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=900,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    @settings(
        max_examples=MALFORMED_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=malformed_events(),
        valid_first=st.sampled_from([None] * 28 + valid_kinds),
    )
    def deliver(case: Malformed, valid_first: str | None) -> None:
        if valid_first is not None:
            number = len(ledger.valid)
            valid = _valid_event(valid_first, number)
            [decision] = trigger.lambda_handler(valid, lambda_context())["decisions"]
            assert decision["outcome"] in ("started", "suppressed"), decision
            ledger.valid[decision["invitation_id"]] = valid["id"]
            ledger.kinds[f"valid {valid_first}"] += 1
            ledger.customers.add(valid["detail"]["customer"]["id"])
            if decision["outcome"] == "started":
                ledger.started.add(decision["invitation_id"])
        # As EventBridge delivers it: JSON, with an id of its own
        event = json.loads(json.dumps(case.event))
        event["id"] = f"malformed-{len(ledger.malformed):04d}"
        try:
            contracts.validate_event(event)
        except contracts.InvalidEvent as invalid:
            expected_reason = invalid.reason
        else:
            raise AssertionError(f"the validator accepted a mutation {case.kinds}: {event}")
        # The handler must not raise, and must say why it rejected the event
        [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
        assert decision["outcome"] == "rejected", decision
        reason = decision["reason"]
        assert reason == expected_reason
        assert re.match(r"(event|detail-type|detail[\w.\[\]]*): ", reason), reason
        assert _reason_names_the_problem(reason, case), (reason, case.markers)
        assert SENTINEL not in reason  # names paths and rules, never values
        # The event is in the dead-letter queue, once, as delivered, with the same reason
        [message] = queued()
        assert json.loads(message["Body"]) == {"reason": reason, "event": event}
        attribute = message["MessageAttributes"]["reason"]["StringValue"]
        assert attribute == reason[:1024]
        assert sqs_legal(attribute), attribute
        ledger.malformed[event["id"]] = (event, reason)
        ledger.kinds.update(case.kinds)

    deliver()
    stdout = capsys.readouterr().out

    # Every generated event was delivered and dead-lettered; nothing else is in the queue
    assert len(ledger.malformed) >= MALFORMED_EXAMPLES * 0.95, len(ledger.malformed)
    assert _rejected_messages(deployment) == []
    # No valid event was lost beside them, and no malformed one left anything behind
    invitations = _scan(deployment, "InvitationsTable")
    assert {i["invitation_id"]["S"]: i["source_event_id"]["S"] for i in invitations} == (
        ledger.valid
    )
    assert {e["name"] for e in _executions(deployment)} == ledger.started
    assert {c["customer_id"]["S"] for c in _scan(deployment, "CustomersTable")} == (
        ledger.customers
    )
    # The metrics count the same
    totals, _ = emf_metrics(stdout)
    assert totals["EventsRejected"] == len(ledger.malformed)
    assert totals["SurveysStarted"] == len(ledger.started)
    assert totals["SurveysStarted"] + totals["SurveysSuppressed"] == len(ledger.valid)
    # and the generator reached every kind of mutation
    assert set(ledger.kinds) >= {
        "drop", "type", "const", "enum", "too-short", "too-long", "pattern", "date-time",
        "minimum", "extra", "garbage", "detail-type", "detail", "seed",
        *(f"valid {kind}" for kind in valid_kinds),
    }, ledger.kinds  # fmt: skip


# ---------------------------------------------------------------- known crashes (bugs)


def _with(name: str, changes: dict[str, Any]) -> dict[str, Any]:
    event = example_event(name)
    event["detail"].update(changes)
    return event


EXTREME_INPUTS = [
    # Dates the schema's shape allows but no event carries: rejected, not overflowing later.
    pytest.param(
        _with("purchase-completed.json", {"occurredAt": "9999-12-31T23:59:59Z"}),
        id="occurredAt-9999",
    ),
    pytest.param(
        _with("survey-requested.json", {"notBefore": "9999-12-31T23:59:59Z"}),
        id="notBefore-9999",
    ),
    pytest.param(
        _with("customer-activity.json", {"occurredAt": "0001-01-01T00:00:00+01:00"}),
        id="activity-year-1",
    ),
    # An unexpected key with control characters: the reason quotes it escaped, since SQS
    # refuses control characters in message attributes.
    pytest.param(_with("purchase-completed.json", {"\x00note\x1b": 1}), id="control-character-key"),
    # 120 KB of UTF-8 (EventBridge takes 256 KB): the message body stays UTF-8, not escaped.
    pytest.param(
        _with("purchase-completed.json", {"orderId": "\u00e4" * 60_000}), id="large-non-ascii"
    ),
]


@pytest.mark.parametrize("event", EXTREME_INPUTS)
def test_extreme_inputs_are_rejected_with_a_reason_sqs_accepts(
    deployment: Deployment, event: dict[str, Any]
) -> None:
    _use_aws_queue_size_limit(deployment)
    trigger = _trigger(deployment)
    [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
    assert decision["outcome"] == "rejected", decision
    [message] = _rejected_messages(deployment)
    assert sqs_legal(message["MessageAttributes"]["reason"]["StringValue"])
    assert json.loads(message["Body"])["event"]["detail"] == event["detail"]


@pytest.mark.parametrize(
    "value",
    ["2026-11-16T25:00:00Z", "2026-02-30T10:00:00Z", "2026-11-16T10:00:00", "2026-11-16"],
)
def test_date_times_are_checked_by_the_contracts_own_checker(value: str) -> None:
    # jsonschema's own checker needs the optional rfc3339-validator, and fastjsonschema's allows
    # any year: the contracts register their own, so Lambda checks what the tests check.
    from survey_core import schemas
    from survey_core.events import contracts

    assert schemas.FORMATS["date-time"] is schemas.is_date_time
    detail = example_event("purchase-completed.json")["detail"]
    with pytest.raises(contracts.InvalidEvent, match="occurredAt"):
        contracts.validate_detail("Purchase Completed", {**detail, "occurredAt": value})
