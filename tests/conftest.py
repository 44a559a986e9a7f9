"""Shared fixtures. Integration tests deploy template.yaml itself into moto (mock_aws), so the
tables, queues, bus and function environments they run against are the template's own."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"
REGION = "eu-north-1"


# The order the tests are collected in, slowest kind first. `make test` hands whole files to two
# workers in this order (--dist loadfile --no-loadscope-reorder): the end-to-end files, a few
# tests of up to 50 s each, start first and the many quick unit files fill in at the end. In
# xdist's own order (most tests first) the end-to-end files came last and one worker ran on
# for half a minute after the other (`pytest -v -n 2 --dist loadfile --durations=0`: 306 s
# of tests on one, 270 s on the other).
KIND_ORDER = ("e2e", "integration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def kind(item: pytest.Item) -> int:
        found = [i for i, name in enumerate(KIND_ORDER) if item.get_closest_marker(name)]
        return found[0] if found else len(KIND_ORDER)

    items.sort(key=kind)  # stable: the files keep their order within a kind


def example_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@dataclass
class Deployment:
    """template.yaml created in mock_aws, and a way to import any of its functions."""

    outputs: dict[str, str]
    environments: dict[str, dict[str, str]]  # logical id -> environment from the template
    template: Any
    # EventBridge matches for Lambda / Step Functions targets: (target ARN, event). moto cannot
    # deliver them; integration tests test one function, so they are recorded, not run.
    deliveries: list[tuple[str, dict[str, Any]]]
    # DynamoDB stream records for event source mappings (the responses table's outbox), as
    # Lambda would pass them: recorded, not run (tests/integration/helpers.run_outbox runs them).
    stream_records: list[dict[str, Any]]
    # The functions' IAM roles, enforced on their DynamoDB and SNS requests (moto enforces no
    # IAM): a request the role does not allow gets AccessDeniedException, as in AWS.
    iam: Any
    # The stream records for the data lake's export function (all three tables' streams), as
    # Lambda would pass them: recorded, not run (tests/integration/test_lake_export.py).
    lake_records: list[dict[str, Any]] = field(default_factory=list)
    # logical id -> physical id of the stack's resources, as create_stack made them
    physical: dict[str, str] = field(default_factory=dict)
    # The test's own clients, one per service (a third of the clients a test made were these,
    # each about as costly to make as a request): the functions make theirs at import.
    _clients: dict[str, Any] = field(default_factory=dict)

    def take_stream_records(self) -> list[dict[str, Any]]:
        taken, self.stream_records[:] = list(self.stream_records), []
        return taken

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def physical_id(self, logical_id: str) -> str:
        return self.physical[logical_id]

    def with_parameters(self, **values: str) -> None:
        """The functions' roles as the template makes them with these parameter values (a test
        that gives a function the matching environment through load(..., NAME=value))."""
        self.iam.policies = self.iam.policies_for(values)

    def load(self, logical_id: str, **extra_env: str) -> ModuleType:
        from infra.local.functions import load_module

        env = {**self.environments[logical_id], **extra_env}
        return load_module(self.template.functions[logical_id], env)


PARAMETERS_OVERRIDES = {"SurveyLinkBaseUrl": "https://surveys.example.com"}


def _test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOCAL_CLOCK", raising=False)


def _parameters() -> dict[str, str]:
    from infra.local.stack import DEFAULT_PARAMETERS

    return {**DEFAULT_PARAMETERS, **PARAMETERS_OVERRIDES}


@dataclass(frozen=True)
class _DeployedStack:
    """The stack as create_stack left it in moto, kept as a copy of moto's state."""

    backends: list[Any]  # moto's BackendDicts in use after create_stack
    state: list[dict[str, Any]]  # a deep copy of each one's account -> region -> backend
    outputs: dict[str, str]
    environments: dict[str, dict[str, str]]
    physical: dict[str, str]  # logical id -> physical id of the stack's resources
    # The template as create_stack left it: it writes what the stack made (the secrets' ARNs,
    # the user pool's ids, ...) over the references to them, for the IAM checks and the tests.
    template: Any


@pytest.fixture(scope="session")
def _deployed_stack() -> _DeployedStack:
    """template.yaml created in mock_aws once per worker process (pytest-xdist): creating it
    takes about a second, and restoring a copy of moto's state a few hundredths of one."""
    from moto import mock_aws
    from moto.awslambda.models import lambda_backends
    from moto.core.base_backend import BackendDict

    from infra.local.emulation.clients import share_api_models
    from infra.local.emulation.dynamodb import (
        back_up_transaction_items,
        parse_each_update_expression_once,
        serialize_dynamodb,
    )
    from infra.local.emulation.serialization import (
        remember_attribute_keys,
        write_plain_attribute_values,
    )
    from infra.local.template import build_local_template, create_stack

    parameters = _parameters()
    template = build_local_template(parameters, REGION)  # SAM's translator: ~0.3 s
    remember_attribute_keys()  # moto's serializer: each member's possible keys worked out once
    write_plain_attribute_values()  # and DynamoDB's values, already in their wire form, as they are
    serialize_dynamodb()  # DynamoDB's per-request atomicity, for the concurrency tests
    back_up_transaction_items()
    parse_each_update_expression_once()
    share_api_models()  # each test loads its functions afresh: their sessions parse no model again
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        _test_environment(monkeypatch)
        outputs = create_stack(
            boto3.client("cloudformation", region_name=REGION),
            boto3.client("s3", region_name=REGION),
            boto3.client("sesv2", region_name=REGION),
            template,
            parameters,
            "feedback",
        )
        boto3.client("sesv2", region_name=REGION).create_email_identity(
            EmailIdentity=parameters["SenderEmail"]
        )
        by_key = {s.s3_key: s.logical_id for s in template.functions.values()}
        environments = {
            by_key[f.code["S3Key"]]: {k: str(v) for k, v in f.environment_vars.items()}
            for f in lambda_backends["123456789012"][REGION].list_functions()
        }
        physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", r["LogicalResourceId"])
            for r in boto3.client("cloudformation", region_name=REGION).describe_stack_resources(
                StackName="feedback"
            )["StackResources"]
        }
        # moto's list of the BackendDicts in use (those reset when mock_aws starts or stops).
        backends = list(BackendDict._instances)  # type: ignore[misc]
        state = _moto_copy(backends, [dict(b) for b in backends])
    # Leaving mock_aws emptied moto: the copy is all that is left of this stack.
    return _DeployedStack(backends, state, outputs, environments, physical, template)


@pytest.fixture
def deployment(
    _deployed_stack: _DeployedStack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    """The stack of template.yaml in mock_aws, as create_stack made it.

    Shared per worker: the stack is created once (_deployed_stack) and moto's state after it
    copied. Reset per test: mock_aws starts empty (moto resets every backend) and gets a fresh
    deep copy of that state, so tables, queues, sent emails, executions, schedules, users,
    secrets and objects are those of a new stack; whatever a test created or changed, in any
    service, account or region, is gone with the copy it changed. The template, the
    environments, the recorded deliveries and stream records, the IAM enforcer (and the
    parameters a test gave it through with_parameters) and every monkeypatch are new per test,
    as before. Leaving the test stops mock_aws, which empties moto again.
    """
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.events.models import Rule

    from infra.local.emulation.events import routing_send_to_targets
    from infra.local.emulation.streams import records_of

    _test_environment(monkeypatch)
    parameters = _parameters()
    stack = _deployed_stack
    template = copy.deepcopy(stack.template)  # each test's own, free to change
    deliveries: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        Rule,
        "send_to_targets",
        routing_send_to_targets(
            Rule.send_to_targets, lambda target, event: deliveries.append((target["Arn"], event))
        ),
    )
    stream_records: list[dict[str, Any]] = []
    lake_records: list[dict[str, Any]] = []

    def record_stream(self: Any, function_arn: str, items: list[Any], source: str) -> str:
        export = "LakeExportFunction" in function_arn
        (lake_records if export else stream_records).extend(
            records_of(items, self.region_name, source)
        )
        return "recorded"  # moto then clears the shard's items

    monkeypatch.setattr(LambdaBackend, "send_dynamodb_items", record_stream)
    with mock_aws():  # starts with every backend reset (empty)
        state = _moto_copy(stack.backends, stack.state)
        with backend_lock:
            for backend_dict, accounts in zip(stack.backends, state, strict=True):
                for account_id, account in accounts.items():
                    dict.__setitem__(backend_dict, account_id, account)
                # So that leaving mock_aws resets it again (moto's own bookkeeping).
                if backend_dict not in BackendDict._instances:  # type: ignore[misc]
                    BackendDict._instances.append(backend_dict)  # type: ignore[misc]
        iam = _enforce_iam(template, parameters, stack.physical, monkeypatch)
        yield Deployment(
            dict(stack.outputs),
            copy.deepcopy(stack.environments),
            template,
            deliveries,
            stream_records,
            iam,
            lake_records,
            dict(stack.physical),
        )


def _moto_copy(backends: list[Any], state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A deep copy of moto's state, in one deepcopy so that references between models (a
    stack's resources are the queues, tables, ... of the other services) stay shared. The
    BackendDicts themselves are not copied: moto looks backends up through them. moto's
    models keep locks (a queue's Condition, an S3 key's Lock), which deepcopy cannot copy:
    each copy gets new ones, unheld, as a new model would."""
    import _thread
    import copyreg
    import threading

    fresh = {
        _thread.LockType: lambda _: (threading.Lock, ()),
        _thread.RLock: lambda _: (threading.RLock, ()),
        threading.Condition: lambda _: (threading.Condition, ()),
    }
    added = [kind for kind in fresh if kind not in copyreg.dispatch_table]
    for kind in added:
        copyreg.dispatch_table[kind] = fresh[kind]
    try:
        return copy.deepcopy(state, {id(b): b for b in backends})
    finally:
        for kind in added:
            del copyreg.dispatch_table[kind]


def _enforce_iam(
    template: Any,
    parameters: dict[str, str],
    physical: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Every botocore client made from now on (the functions' boto3 and PynamoDB clients are
    made when a test loads them) checks the loaded function's requests against its role."""
    import botocore.session

    from infra.local.functions import calling_function
    from infra.local.iam import Enforcer, Resolver, Stack, function_policies, table_hash_keys
    from infra.local.template import ACCOUNT_ID

    stack = Stack(REGION, ACCOUNT_ID, table_hash_keys(template.cloudformation, physical))

    def policies_for(values: dict[str, str]) -> dict[str, Any]:
        given = {**parameters, **values}
        resolver = Resolver(template.cloudformation, given, physical, stack, "feedback")
        return function_policies(template.cloudformation, resolver)

    enforcer = Enforcer(policies_for({}), stack, calling_function, policies_for)
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        enforcer.hook(client)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return enforcer
