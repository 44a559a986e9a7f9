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

    def take_stream_records(self) -> list[dict[str, Any]]:
        taken, self.stream_records[:] = list(self.stream_records), []
        return taken

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def physical_id(self, logical_id: str) -> str:
        resources = self.client("cloudformation").describe_stack_resources(
            StackName="feedback", LogicalResourceId=logical_id
        )
        return str(resources["StackResources"][0]["PhysicalResourceId"])

    def with_parameters(self, **values: str) -> None:
        """The functions' roles as the template makes them with these parameter values (a test
        that gives a function the matching environment through load(..., NAME=value))."""
        self.iam.policies = self.iam.policies_for(values)

    def load(self, logical_id: str, **extra_env: str) -> ModuleType:
        from infra.local.functions import load_module

        env = {**self.environments[logical_id], **extra_env}
        return load_module(self.template.functions[logical_id], env)


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend, lambda_backends
    from moto.events.models import Rule

    from infra.local.adapter import routing_send_to_targets, serialize_dynamodb
    from infra.local.stack import DEFAULT_PARAMETERS
    from infra.local.streams import records_of
    from infra.local.template import build_local_template, create_stack

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
    parameters = {**DEFAULT_PARAMETERS, "SurveyLinkBaseUrl": "https://surveys.example.com"}
    template = _local_template(tuple(parameters.items()), build_local_template)
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
    serialize_dynamodb()  # DynamoDB's per-request atomicity, for the concurrency tests
    with mock_aws():
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
        iam = _enforce_iam(template, parameters, monkeypatch)
        yield Deployment(
            outputs, environments, template, deliveries, stream_records, iam, lake_records
        )


_TEMPLATES: dict[tuple[tuple[str, str], ...], Any] = {}


def _local_template(parameters: tuple[tuple[str, str], ...], build: Any) -> Any:
    """The template, transformed once per worker (SAM's translator: a quarter to half a second
    of each integration test); each test gets its own copy, free to change."""
    if parameters not in _TEMPLATES:
        _TEMPLATES[parameters] = build(dict(parameters), REGION)
    return copy.deepcopy(_TEMPLATES[parameters])


def _enforce_iam(template: Any, parameters: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every botocore client made from now on (the functions' boto3 and PynamoDB clients are
    made when a test loads them) checks the loaded function's requests against its role."""
    import botocore.session

    from infra.local.functions import calling_function
    from infra.local.iam import Enforcer, Resolver, Stack, function_policies, table_hash_keys
    from infra.local.template import ACCOUNT_ID

    cloudformation = boto3.client("cloudformation", region_name=REGION)
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", r["LogicalResourceId"])
        for r in cloudformation.describe_stack_resources(StackName="feedback")["StackResources"]
    }
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
