"""The data lake's resources on the local stack, from template.yaml.

moto's CloudFormation creates the lake's S3 buckets and the export function with its three
stream mappings, but not these types, which moto's own APIs do serve; they are made here with
the template's properties:

- AWS::SecretsManager::Secret (the pseudonym key): created before the stack with a random
  value as GenerateSecretString asks, and its ARN written into the template wherever it is
  !Ref'ed (the function's environment and IAM statement), as CloudFormation would resolve it;
- AWS::Glue::Database and AWS::Glue::Table, AWS::Athena::WorkGroup and AWS::Athena::NamedQuery:
  created after the stack, their !Ref / !Sub / !GetAtt resolved with the stack's physical
  names. Athena does not run queries locally; `make analytics` runs the named queries on
  DuckDB (tools/lake_sql.py).

And for the end-to-end test of replayed batches: the last batches the stack delivered to the
export function, kept in memory and served at /_local/lake/batches.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import boto3

SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, no secret
GLUE_DATABASE = "AWS::Glue::Database"
GLUE_TABLE = "AWS::Glue::Table"
ATHENA_WORKGROUP = "AWS::Athena::WorkGroup"
ATHENA_NAMED_QUERY = "AWS::Athena::NamedQuery"
SERVED_TYPES = frozenset({SECRET, GLUE_DATABASE, GLUE_TABLE, ATHENA_WORKGROUP, ATHENA_NAMED_QUERY})
EXPORT_FUNCTION = "LakeExportFunction"
BATCHES_KEPT = 50
BATCHES_PATH = "/_local/lake/batches"
Invoke = Callable[[str, dict[str, Any]], tuple[Any, bool]]  # function ARN, event -> result


def _random_secret(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    return "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))


def _replace_refs(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in refs:
            return refs[node["Ref"]]
        return {k: _replace_refs(v, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(item, refs) for item in node]
    return node


def serve_before_stack(
    cloudformation: dict[str, Any], parameters: dict[str, str], stack_name: str, region: str
) -> None:
    """Create the template's secrets, and write over every !Ref of a type served here what
    CloudFormation would give: a secret's ARN, a Glue database's or Athena workgroup's name (in
    place: moto's stack and the IAM checks then see them)."""
    from .iam import Resolver, Stack
    from .template import ACCOUNT_ID

    resources = cloudformation["Resources"]
    resolver = Resolver(cloudformation, parameters, {}, Stack(region, ACCOUNT_ID, {}), stack_name)
    client = boto3.client("secretsmanager", region_name=region)
    refs = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == GLUE_DATABASE:
            refs[logical_id] = str(resolver.value(props["DatabaseInput"]["Name"]))
        elif resource["Type"] == ATHENA_WORKGROUP:
            refs[logical_id] = str(resolver.value(props["Name"]))
        elif resource["Type"] == SECRET:
            value = props.get("SecretString") or _random_secret(
                props.get("GenerateSecretString", {})
            )
            created = client.create_secret(
                Name=props.get("Name") or f"{stack_name}-{logical_id}",
                Description=str(props.get("Description", "")),
                SecretString=value,
            )
            refs[logical_id] = str(created["ARN"])
    for name, resource in list(resources.items()):
        resources[name] = _replace_refs(resource, refs)
    cloudformation["Outputs"] = _replace_refs(cloudformation.get("Outputs", {}), refs)


def serve_after_stack(
    cloudformation: dict[str, Any], parameters: dict[str, str], stack_name: str, region: str
) -> None:
    """Create the Glue database and tables, the Athena workgroup and its named queries."""
    from .iam import Resolver, Stack
    from .template import ACCOUNT_ID

    stack_resources = boto3.client("cloudformation", region_name=region).describe_stack_resources(
        StackName=stack_name
    )["StackResources"]
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") or "" for r in stack_resources}
    resources = cloudformation["Resources"]
    stack = Stack(region, ACCOUNT_ID, {})
    resolver = Resolver(cloudformation, parameters, physical, stack, stack_name)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources.values():
        if resource["Type"] in SERVED_TYPES - {SECRET}:
            by_type.setdefault(resource["Type"], []).append(resolver.value(resource["Properties"]))
    glue = boto3.client("glue", region_name=region)
    for props in by_type.get(GLUE_DATABASE, []):
        glue.create_database(DatabaseInput=props["DatabaseInput"])
    for props in by_type.get(GLUE_TABLE, []):
        glue.create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
    athena = boto3.client("athena", region_name=region)
    for props in by_type.get(ATHENA_WORKGROUP, []):
        configuration = dict(props.get("WorkGroupConfiguration", {}))
        if "BytesScannedCutoffPerQuery" in configuration:  # a Number parameter, as text
            configuration["BytesScannedCutoffPerQuery"] = int(
                configuration["BytesScannedCutoffPerQuery"]
            )
        athena.create_work_group(
            Name=props["Name"],
            Description=props.get("Description", ""),
            Configuration=configuration,
        )
    for props in by_type.get(ATHENA_NAMED_QUERY, []):
        athena.create_named_query(
            Name=props["Name"],
            Description=props.get("Description", ""),
            Database=props["Database"],
            QueryString=props["QueryString"],
            WorkGroup=props["WorkGroup"],
        )


class ExportBatches:
    """The batches the local stack delivered to the lake export function, newest last, so an
    end-to-end test can deliver one again (a replay) through Lambda's Invoke."""

    def __init__(self) -> None:
        self._batches: deque[dict[str, Any]] = deque(maxlen=BATCHES_KEPT)
        self._lock = threading.Lock()

    def wrap(self, invoke: Invoke, function_names: Iterable[str]) -> Invoke:
        names = set(function_names)

        def invoke_and_keep(function_arn: str, event: dict[str, Any]) -> tuple[Any, bool]:
            result = invoke(function_arn, event)
            if function_arn.split(":")[6] in names and not result[1]:
                with self._lock:
                    self._batches.append(json.loads(json.dumps(event)))
            return result

        return invoke_and_keep

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._batches)


class LakeControl:
    """WSGI middleware in front of the local stack's control app: GET /_local/lake/batches."""

    def __init__(self, app: Any, batches: ExportBatches) -> None:
        self.app = app
        self.batches = batches

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == BATCHES_PATH and environ["REQUEST_METHOD"] == "GET":
            data = json.dumps(self.batches.listing()).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            )
            return [data]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


def keep_export_batches(adapter: Any, batches: ExportBatches) -> None:
    """Keep what the adapter's stream delivery hands the export function (after the functions
    are loaded: their physical names are known then)."""
    names = [f.name for f in adapter.functions.values() if f.source.logical_id == EXPORT_FUNCTION]
    adapter.streams._invoke = batches.wrap(adapter.streams._invoke, names)
