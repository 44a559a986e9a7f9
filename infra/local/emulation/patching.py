"""Every change the local stack makes to moto's and botocore's code goes through `patch`.

moto emulates AWS closely but not fully (see each module of this package for what is added);
the additions replace or wrap moto internals that moto may change in any release. Each
replaced attribute is registered here with a fingerprint of the code it replaced, as of the
pinned moto and botocore (requirements/dev.txt), and tests/unit/test_local_patches.py fails
when an upgrade changes that code: the patch must then be read again against the new code
(does it still fit, is it still needed?) and its fingerprint updated.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
import threading
import types
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Patch:
    """One attribute of moto or botocore the local stack replaces."""

    module: str  # where the owner is defined, e.g. "moto.events.models"
    attribute: str  # in that module, e.g. "Rule.send_to_targets"
    fingerprint: str  # of the original (see fingerprint), first 16 hex digits of a SHA-256
    emulation: str  # the module of this package that patches it

    @property
    def target(self) -> str:
        return f"{self.module}.{self.attribute}"


_SF = "moto.stepfunctions.parser.asl.component"
# moto==5.2.5, botocore==1.44.5. The order is that of LocalAdapter.install.
REGISTRY: tuple[Patch, ...] = (
    Patch(
        "moto.core.serialize",
        "XFormedAttributePicker.get_possible_keys",
        "f0d20f55f37fd8a1",
        "serialization",
    ),
    Patch(
        "moto.core.serialize",
        "BaseJSONSerializer._serialize_type_structure",
        "36873909cd0aeb4d",
        "serialization",
    ),
    Patch("moto.dynamodb.responses", "DynamoHandler.call_action", "ce5f57cf83cde340", "dynamodb"),
    Patch("moto.dynamodb.models", "copy", "a2c5d6a23e613ccf", "dynamodb"),
    Patch(
        "moto.dynamodb.models",
        "DynamoDBBackend.transact_write_items",
        "81db2cb7d94e39c9",
        "dynamodb",
    ),
    Patch(
        "moto.dynamodb.parsing.expressions",
        "UpdateExpressionParser.make",
        "2c00ed96d6e191f2",
        "dynamodb",
    ),
    Patch(
        "moto.stepfunctions.models", "stepfunctions_backends", "3b4f00dccfd0781d", "stepfunctions"
    ),
    Patch(
        "moto.stepfunctions.parser.backend.execution_worker",
        "ExecutionWorker._get_evaluation_entrypoint",
        "2b25949ae855da80",
        "stepfunctions",
    ),
    Patch("moto.awslambda.models", "LambdaFunction._invoke_lambda", "23ce7a8f956e8090", "lambda_"),
    Patch("moto.awslambda.models", "LambdaBackend.send_sns_message", "93a31ff107e6294f", "sns"),
    Patch(
        "moto.awslambda.models", "LambdaBackend.send_dynamodb_items", "110b6aaa90f83e44", "streams"
    ),
    Patch("moto.events.models", "Rule.send_to_targets", "472e002e2dab8a59", "events"),
    Patch(
        f"{_SF}.state.wait.wait_function.timestamp",
        "Timestamp._get_wait_seconds",
        "611d040940ad5f39",
        "stepfunctions",
    ),
    Patch(
        f"{_SF}.common.timeouts.timeout", "Timeout._eval_body", "5c5f336e8ba14d64", "stepfunctions"
    ),
    Patch(
        f"{_SF}.state.wait.wait_function.wait_function",
        "WaitFunction._eval_body",
        "adaade605eee07ef",
        "stepfunctions",
    ),
    Patch(f"{_SF}.common.retry.retrier_decl", "time", "dfe2ff4a9c0923df", "stepfunctions"),
    Patch("botocore.endpoint", "time", "6035bb7b36f04446", "stepfunctions"),
    Patch(
        f"{_SF}.common.catch.catcher_decl",
        "CatcherDecl._eval_body",
        "4fd0a6060a5b4977",
        "stepfunctions",
    ),
    Patch(f"{_SF}.state.state", "CommonStateField._set_next", "08e86e76621b8049", "stepfunctions"),
    Patch(
        "moto.stepfunctions.parser.asl.jsonata.jsonata",
        "_eval_jsonata",
        "0068de03e35539bd",
        "stepfunctions",
    ),
    Patch(
        "moto.stepfunctions.responses",
        "StepFunctionResponse.send_task_failure",
        "f0fed5e805768377",
        "stepfunctions",
    ),
    Patch(
        "moto.stepfunctions.parser.asl.eval.states",
        "ContextObject.update_task_token",
        "16d3cd21a9fc8463",
        "stepfunctions",
    ),
    Patch("moto.sesv2.responses", "SESV2Response.send_email", "a1d8662c8b797d93", "ses"),
    Patch("botocore.session", "Session.create_client", "a1302b106e49635e", "clients"),
    Patch("botocore.session", "create_loader", "89050e30206e5ea7", "clients"),
    Patch(
        "moto.stepfunctions.parser.backend.execution_worker",
        "Thread",
        "7e58a789b2ed5bdf",
        "virtual_time",
    ),
    Patch(f"{_SF}.state.exec.execute_state", "Thread", "85dc91294c48884d", "virtual_time"),
    Patch(f"{_SF}.state.exec.execute_state", "threading", "5a3f7815b3228c2b", "virtual_time"),
    Patch(
        "moto.stepfunctions.parser.asl.eval.callback.callback",
        "Event",
        "28d6069887e9b08a",
        "virtual_time",
    ),
    Patch(
        "moto.scheduler.models",
        "EventBridgeSchedulerBackend.create_schedule",
        "513099380dbd4563",
        "scheduler",
    ),
)
_BY_TARGET = {p.target: p for p in REGISTRY}

# What each registered attribute was before the first patch (moto's own code), by target.
_ORIGINALS: dict[str, Any] = {}
_LOCK = threading.Lock()


def patch(owner: type | types.ModuleType, name: str, replacement: Any) -> None:
    """Replace owner.name (a class or module of moto or botocore) with replacement.

    Only registered attributes: a new patch needs its entry in REGISTRY, so the test notices
    when moto changes what it replaces."""
    target = f"{_target_of(owner)}.{name}"
    if target not in _BY_TARGET:
        raise KeyError(f"{target} is not in infra/local/emulation/patching.py's REGISTRY")
    with _LOCK:
        _ORIGINALS.setdefault(target, getattr(owner, name))
        setattr(owner, name, replacement)


def original(entry: Patch) -> Any:
    """The attribute as moto or botocore defines it, patched or not (ImportError or
    AttributeError when it no longer exists)."""
    with _LOCK:
        if entry.target in _ORIGINALS:
            return _ORIGINALS[entry.target]
    value: Any = importlib.import_module(entry.module)
    for part in entry.attribute.split("."):
        value = getattr(value, part)
    return value


def fingerprint(entry: Patch) -> str:
    """First 16 hex digits of the SHA-256 of what the patch relies on in the original.

    A function or method: its source. Anything else (a module attribute holding the module
    `time`, a backend registry, or None where moto stubs a function out) has no source of its
    own; what the patch relies on is what the value is and how its module uses it, so: the
    value's type (the module `time`: its name) and every line of the owner module's source that
    names the attribute (e.g. each `time.sleep(...)` a scaled `time` slows down, each lookup in
    `stepfunctions_backends`, the stub's `if _eval_jsonata is None`)."""
    value = original(entry)
    if inspect.isfunction(value) or inspect.ismethod(value):
        text = inspect.getsource(value)
    else:
        owner = importlib.import_module(entry.module)
        word = re.compile(rf"\b{re.escape(entry.attribute)}\b")
        uses = [line.strip() for line in inspect.getsource(owner).splitlines() if word.search(line)]
        kind = value.__name__ if isinstance(value, types.ModuleType) else type(value).__qualname__
        text = "\n".join([f"{type(value).__module__}.{kind}", *uses])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _target_of(owner: type | types.ModuleType) -> str:
    if isinstance(owner, types.ModuleType):
        return owner.__name__
    return f"{owner.__module__}.{owner.__qualname__}"
