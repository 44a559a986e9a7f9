"""The local stack's patches of moto and botocore (infra/local/emulation/patching.py): each
replaced attribute still is the code its patch was written for, and none is made but through
the registry. A moto or botocore upgrade that changes what a patch replaces fails here."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.local.adapter import LocalAdapter
from infra.local.emulation import patching
from infra.local.emulation.patching import REGISTRY, Patch
from infra.local.emulation.virtual_time import NOW_VARIABLE, VirtualClock

pytestmark = pytest.mark.unit

LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda entry: entry.target)
def test_each_patched_original_is_the_code_its_patch_was_written_for(entry: Patch) -> None:
    package = entry.module.split(".")[0]
    if package in sys.stdlib_module_names:
        installed = f"Python {sys.version.split()[0]}"
    else:
        installed = f"{package}=={importlib.metadata.version(package)}"
    where = f"infra/local/emulation/{entry.emulation}.py"
    try:
        importlib.import_module(entry.module)
        patching.original(entry)
    except (ImportError, AttributeError) as error:
        pytest.fail(
            f"{entry.target} no longer exists in {installed} ({error}): the patch in {where} "
            "must be re-checked against the new code (and its REGISTRY entry updated)"
        )
    actual = patching.fingerprint(entry)
    assert actual == entry.fingerprint, (
        f"{entry.target} changed in {installed} (fingerprint {actual}, the patch was written "
        f"for {entry.fingerprint}): the patch in {where} must be re-checked against the new "
        "code, then its fingerprint updated in infra/local/emulation/patching.py's REGISTRY"
    )


def test_each_entry_names_the_module_that_patches_it() -> None:
    for entry in REGISTRY:
        source = (LOCAL / "emulation" / f"{entry.emulation}.py").read_text()
        name = entry.attribute.rsplit(".", 1)[-1]
        assert f'"{name}"' in source, f"{entry.target}: no patch of it in {entry.emulation}.py"
    assert len({entry.target for entry in REGISTRY}) == len(REGISTRY)


def test_install_replaces_every_registered_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {entry: _current(entry) for entry in REGISTRY}
    adapter = LocalAdapter("eu-north-1", 1.0)
    monkeypatch.setenv(NOW_VARIABLE, "")  # the virtual clock sets it; restored after the test
    adapter.virtual = VirtualClock(datetime(2026, 11, 16, 7, tzinfo=UTC))  # installs the most
    try:
        adapter.install()  # patch() refuses any attribute not in the registry
        unchanged = [
            e.target for e in REGISTRY if _unbound(_current(e)) is _unbound(patching.original(e))
        ]
        assert not unchanged, f"registered but not patched by LocalAdapter.install: {unchanged}"
    finally:
        adapter.close()
        for entry, value in before.items():  # as it was: other tests run in this process
            owner, name = _owner(entry)
            setattr(owner, name, value)


def test_patch_refuses_an_attribute_not_in_the_registry() -> None:
    from moto.events.models import Rule

    with pytest.raises(KeyError, match="REGISTRY"):
        patching.patch(Rule, "send_to_targets_elsewhere", lambda: None)
    assert not hasattr(Rule, "send_to_targets_elsewhere")


def test_no_module_of_the_local_stack_assigns_into_moto_or_botocore_but_through_patch() -> None:
    found = [
        f"{path.relative_to(LOCAL.parents[1])}:{line}"
        for path in sorted(LOCAL.rglob("*.py"))
        if path.name != "patching.py"
        for line in _assignments_into_moto(ast.parse(path.read_text()))
    ]
    assert not found, f"assignments into moto or botocore not made through patch(): {found}"


def _assignments_into_moto(tree: ast.Module) -> list[int]:
    """Lines that assign (or setattr, delattr) an attribute of a name bound by an import of
    moto or botocore anywhere in the module."""
    bound = _imported_from_moto(tree)
    return [
        node.lineno
        for node in ast.walk(tree)
        for target in _targets(node)
        if isinstance(target, ast.Attribute) and _root(target) in bound
    ]


def _imported_from_moto(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if alias.name.split(".")[0] in ("moto", "botocore")
            }
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "moto",
            "botocore",
        ):
            bound |= {alias.asname or alias.name for alias in node.names}
    return bound


def _targets(node: ast.AST) -> list[ast.expr]:
    """What the node assigns or deletes; for setattr and delattr, their object's attribute."""
    if isinstance(node, ast.Assign | ast.Delete):
        return list(node.targets)
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("setattr", "delattr")
        and node.args
    ):
        return [ast.Attribute(value=node.args[0], attr="", ctx=ast.Store())]
    return []


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _owner(entry: Patch) -> tuple[Any, str]:
    owner: Any = importlib.import_module(entry.module)
    *path, name = entry.attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def _current(entry: Patch) -> Any:
    """As set on its owner: a classmethod as it is, not bound afresh at each lookup."""
    owner, name = _owner(entry)
    return inspect.getattr_static(owner, name)


def _unbound(value: Any) -> Any:
    return value.__func__ if isinstance(value, classmethod | types.MethodType) else value


def test_a_remembered_serializer_writes_what_moto_writes() -> None:
    """serialization.remember_attribute_keys keeps the possible keys per (picker, class, key,
    shape): moto's own picker, asked afresh each time, must write the same bodies, also for a
    second object of the same class with other keys present (an alias provider that looked at
    an object's values rather than its class would differ here)."""
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    from infra.local.emulation.serialization import remember_attribute_keys

    remember_attribute_keys()
    entry = next(e for e in REGISTRY if e.emulation == "serialization")

    class AskedAfresh(XFormedAttributePicker):
        get_possible_keys = patching.original(entry)

    item = {
        "invitation_id": {"S": "inv-1"},
        "score": {"N": "3"},
        "segment": {"M": {"businessArea": {"S": "webshop"}, "tags": {"SS": ["a", "b"]}}},
        "attempts": {"L": [{"M": {"at": {"S": "2026-11-16T10:00:00Z"}, "ok": {"BOOL": True}}}]},
        "gone": {"NULL": True},
        "counts": {"NS": ["1", "2"]},
    }
    results = {
        "dynamodb": [
            ("GetItem", {"Item": item}),
            ("GetItem", {}),
            ("Query", {"Items": [item, {"k": {"S": "x"}}], "Count": 2, "ScannedCount": 2,
                       "LastEvaluatedKey": {"k": {"S": "x"}}}),
            ("UpdateItem", {"Attributes": {"n": {"N": "1"}}}),
            ("TransactGetItems", {"Responses": [{"Item": item}, {}]}),
        ],
        "sqs": [
            ("ReceiveMessage", {"Messages": [{"MessageId": "m-1", "Body": "{}",
                                              "ReceiptHandle": "r", "MD5OfBody": "x"}]}),
            ("ReceiveMessage", {}),
        ],
    }  # fmt: skip
    for service, operations in results.items():
        model = get_service_model(service)
        for operation, result in operations:
            protocol = "json" if service == "dynamodb" else model.protocol
            serializer = get_serializer_class(service, protocol)
            bodies = [
                serializer(
                    operation_model=model.operation_model(operation), value_picker=picker
                ).serialize(result)["body"]
                for picker in (XFormedAttributePicker(), AskedAfresh(), XFormedAttributePicker())
            ]
            assert bodies[0] == bodies[1] == bodies[2], (service, operation)


def test_a_definition_is_parsed_once_with_its_heap_keys_drawn_before_it_is_shared() -> None:
    """stepfunctions.parse_each_definition_once: two executions of the lifecycle get one parsed
    program whose every component already has its heap key (drawn lazily, two executions could
    draw two); a definition with a Map state is parsed for each execution, as moto does."""
    from types import SimpleNamespace

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    from infra.local.emulation.stepfunctions import components_of, parse_each_definition_once

    parse_each_definition_once()
    installed = ExecutionWorker._get_evaluation_entrypoint
    parse_each_definition_once()  # again, as the stack and a test in one process may
    assert ExecutionWorker._get_evaluation_entrypoint is installed
    lifecycle = (LOCAL.parents[1] / "state_machines" / "survey_lifecycle.asl.json").read_text()
    with_map = (
        '{"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true, "ItemProcessor":'
        ' {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}}}}'
    )

    def entrypoint(definition: str) -> Any:
        worker = SimpleNamespace(
            _evaluation_details=SimpleNamespace(
                state_machine_details=SimpleNamespace(definition=definition)
            )
        )
        return ExecutionWorker._get_evaluation_entrypoint(worker)  # type: ignore[arg-type]

    first, second = entrypoint(lifecycle), entrypoint(lifecycle)
    assert first is second
    components = list(components_of(first))
    assert len(components) > 50  # the whole tree, not its root alone
    assert all(c._EvalComponent__heap_key is not None for c in components)
    assert entrypoint(with_map) is not entrypoint(with_map)


def test_plain_attribute_values_are_written_as_moto_writes_them() -> None:
    """serialization.write_plain_attribute_values writes a DynamoDB value already in its wire
    form as it is: the bodies must equal moto's own serializer's, for values of every kind
    (nested maps and lists, empty ones, sets, NULL and BOOL, binary ones that still go through
    moto's serializer) and in every operation that returns items."""
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    from infra.local.emulation.serialization import (
        plain_attribute_value,
        write_plain_attribute_values,
    )

    write_plain_attribute_values()
    entry = next(e for e in REGISTRY if e.attribute.endswith("_serialize_type_structure"))
    serializer_class = get_serializer_class("dynamodb", "json")

    class MotosOwn(serializer_class):  # type: ignore[misc, valid-type]
        _serialize_type_structure = patching.original(entry)

    item = {
        "invitation_id": {"S": "inv-1"},
        "empty": {"S": ""},
        "score": {"N": "3"},
        "segment": {"M": {"businessArea": {"S": "webshop"}, "tags": {"SS": ["a", "b"]},
                          "none": {"M": {}}, "deep": {"L": [{"M": {"n": {"NS": ["1"]}}}]}}},
        "attempts": {"L": [{"M": {"at": {"S": "2026-11-16T10:00:00Z"}, "ok": {"BOOL": False}}},
                           {"L": []}]},
        "gone": {"NULL": True},
        "blob": {"B": "aGVsbG8="},
        "blobs_inside": {"M": {"b": {"BS": ["aGVsbG8="]}}},
    }  # fmt: skip
    model = get_service_model("dynamodb")
    results = [
        ("GetItem", {"Item": item}),
        ("Query", {"Items": [item, {"k": {"S": "x"}}], "Count": 2, "ScannedCount": 2}),
        ("UpdateItem", {"Attributes": {"n": {"N": "1"}, "m": {"M": {"x": {"BOOL": True}}}}}),
        ("TransactGetItems", {"Responses": [{"Item": item}, {}]}),
        ("BatchGetItem", {"Responses": {"t": [item]}, "UnprocessedKeys": {}}),
    ]
    for operation, result in results:
        bodies = [
            serializer(
                operation_model=model.operation_model(operation),
                value_picker=XFormedAttributePicker(),
            ).serialize(result)["body"]
            for serializer in (serializer_class, MotosOwn)
        ]
        assert bodies[0] == bodies[1], operation
    assert plain_attribute_value(item["segment"]) is not None  # the fast path was taken
    assert plain_attribute_value(item["blob"]) is None  # and binary values were not


def _updates_as_moto_runs_them() -> list[Any]:
    """The same few update expressions with other values, in UpdateItem and in a transaction,
    one that fails to parse and one whose condition fails: what each leaves or answers."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    seen: list[Any] = []
    with mock_aws():
        dynamodb = boto3.client(
            "dynamodb", region_name="eu-north-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        count = "SET #n = if_not_exists(#n, :zero) + :one, latest = :v ADD seen :set"
        for number in range(3):
            for key in ("a", "b"):
                dynamodb.update_item(
                    TableName="t",
                    Key={"pk": {"S": key}},
                    UpdateExpression=count,
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={
                        ":zero": {"N": "0"},
                        ":one": {"N": str(number + 1)},
                        ":v": {"S": f"{key}{number}"},
                        ":set": {"SS": [f"s{number}"]},
                    },
                )
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": key}},
                        "UpdateExpression": count,
                        "ExpressionAttributeNames": {"#n": "n"},
                        "ExpressionAttributeValues": {
                            ":zero": {"N": "0"},
                            ":one": {"N": "10"},
                            ":v": {"S": "t"},
                            ":set": {"SS": ["t"]},
                        },
                    }
                }
                for key in ("a", "c")
            ]
        )
        for expression, condition in (("SET = :v", None), ("SET latest = :v", "n > :zero")):
            try:
                dynamodb.update_item(
                    TableName="t",
                    Key={"pk": {"S": "d"}},
                    UpdateExpression=expression,
                    ExpressionAttributeValues={":v": {"S": "x"}, ":zero": {"N": "0"}},
                    **({"ConditionExpression": condition} if condition else {}),
                )
                seen.append("accepted")
            except ClientError as error:
                seen.append(error.response["Error"]["Code"])
        items = dynamodb.scan(TableName="t")["Items"]
        seen.append(sorted(items, key=lambda item: item["pk"]["S"]))
    return seen


def test_an_update_expression_parsed_once_updates_as_moto_does() -> None:
    """dynamodb.parse_each_update_expression_once: the same expression with other values, in
    UpdateItem and TransactWriteItems, leaves the items moto leaves, and one that does not
    parse is refused each time."""
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    from infra.local.emulation.dynamodb import parse_each_update_expression_once

    before = inspect.getattr_static(UpdateExpressionParser, "make")
    entry = next(e for e in REGISTRY if e.attribute == "UpdateExpressionParser.make")
    # moto's own, also where the integration tests' deployment has patched it in this process
    moto_own: Any = classmethod(_unbound(patching.original(entry)))
    UpdateExpressionParser.make = moto_own
    expected = _updates_as_moto_runs_them()
    try:
        parse_each_update_expression_once()
        parse_each_update_expression_once()  # again, as the stack and a test in one process may
        text = "SET latest = :v"
        assert UpdateExpressionParser.make(text) is UpdateExpressionParser.make(text)
        assert _updates_as_moto_runs_them() == expected
        assert expected[-3:-1] == ["ValidationException", "ConditionalCheckFailedException"]
    finally:
        UpdateExpressionParser.make = before


def test_a_task_token_is_as_long_as_aws_makes_them() -> None:
    """stepfunctions.issue_aws_sized_task_tokens: each rung's token is stored (the wait item),
    so what that costs depends on the token's length (AWS: about 680 characters)."""
    from moto.stepfunctions.parser.asl.eval.states import ContextObject

    from infra.local.emulation.stepfunctions import (
        AWS_TASK_TOKEN_LENGTH,
        issue_aws_sized_task_tokens,
    )

    before = ContextObject.update_task_token
    issue_aws_sized_task_tokens()
    try:
        context = ContextObject({})  # type: ignore[typeddict-item]
        first, second = context.update_task_token(), context.update_task_token()
    finally:
        ContextObject.update_task_token = before  # type: ignore[method-assign]
    assert len(first) == len(second) == AWS_TASK_TOKEN_LENGTH
    assert first != second and first.startswith("AQC")
    assert context.context_object_data["Task"] == {"Token": second}
