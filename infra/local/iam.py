"""The functions' IAM policies from template.yaml, evaluated against the AWS requests they make.

moto enforces no IAM, so a function whose role lacks an action it calls works locally and fails
in the cloud. This module closes that gap for DynamoDB, SNS, S3 and Secrets Manager: it reads
each function's role from the transformed template (SAM policy templates expanded, intrinsic
functions resolved with the stack's physical names), turns a request into the authorizations
AWS checks for it (a transaction: one per item, with the item's own action; a query on an
index: the index's ARN; the partition key values as dynamodb:LeadingKeys; an S3 object's ARN,
a listing's prefix as s3:prefix), and evaluates them: an explicit Deny wins, then any Allow
whose action, resource and conditions match.

Used by the integration tests' `deployment` fixture, which answers a request the role does not
allow with AccessDeniedException as AWS would, and by tests/integration/test_iam_grants.py,
which checks that every DynamoDB, S3 and Secrets Manager action a role grants is used.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENFORCED_SERVICES = ("dynamodb", "sns", "s3", "secretsmanager")
# S3 operations whose IAM action is not s3:<operation>, and those on an object (not a bucket).
S3_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
}
S3_OBJECT_OPERATIONS = frozenset({"PutObject", "GetObject", "HeadObject", "DeleteObject"})
# TransactWriteItems has no IAM action of its own: each item needs its operation's action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",  # TransactGetItems
}


@dataclass(frozen=True)
class Authorization:
    """One thing IAM checks for a request: an action on a resource, with condition keys."""

    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "*" for a request on no resource (an SMS to a phone number)
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """One (action, resource) an Allow statement of a function's role names."""

    sid: str
    action: str
    resource: str


class Stack:
    """What a request's ARNs are built from: the region, the account and the tables' keys."""

    def __init__(
        self,
        region: str,
        account: str,
        table_hash_keys: Mapping[str, str],  # physical table name -> partition key attribute
        partition: str = "aws",
    ) -> None:
        self.region = region
        self.account = account
        self.partition = partition
        self.table_hash_keys = dict(table_hash_keys)

    def table_arn(self, table: str, index: str | None = None) -> str:
        arn = f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table}"
        return f"{arn}/index/{index}" if index else arn

    def leading_keys(self, table: str, *items: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        hash_key = self.table_hash_keys.get(table)
        if hash_key is None:
            return {}
        values = tuple(
            str(next(iter(item[hash_key].values()))) for item in items if hash_key in item
        )
        return {"dynamodb:LeadingKeys": values} if values else {}


def authorizations(
    stack: Stack, service: str, operation: str, params: Mapping[str, Any]
) -> list[Authorization]:
    """What IAM checks for one request of an enforced service (none for other services)."""
    if service == "dynamodb":
        return _dynamodb(stack, operation, params)
    if service == "sns" and operation == "Publish":
        target = params.get("TopicArn") or params.get("TargetArn")
        # An SMS to a phone number names no resource: IAM evaluates it against "*".
        return [Authorization("sns:Publish", str(target) if target else "*")]
    if service == "sns":
        return [Authorization(f"sns:{operation}", str(params.get("TopicArn", "*")))]
    if service == "s3":
        return [_s3(stack, operation, params)]
    if service == "secretsmanager":
        secret = str(params.get("SecretId", "*"))
        if not secret.startswith("arn:"):  # a name: the secret's ARN ends in -<6 characters>
            arn = f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}"
            secret = f"{arn}:secret:{secret}-??????"
        return [Authorization(f"secretsmanager:{operation}", secret)]
    return []


def _s3(stack: Stack, operation: str, params: Mapping[str, Any]) -> Authorization:
    """An object operation on the object's ARN; a bucket operation on the bucket's, a listing
    with its prefix as s3:prefix."""
    action = S3_ACTIONS.get(operation, f"s3:{operation}")
    bucket = f"arn:{stack.partition}:s3:::{params.get('Bucket', '')}"
    if operation in S3_OBJECT_OPERATIONS:
        return Authorization(action, f"{bucket}/{params.get('Key', '')}")
    context = {"s3:prefix": (str(params["Prefix"]),)} if "Prefix" in params else {}
    return Authorization(action, bucket, context)


def _dynamodb(stack: Stack, operation: str, params: Mapping[str, Any]) -> list[Authorization]:
    action = f"dynamodb:{operation}"
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params["TransactItems"]:
            [(kind, request)] = item.items()
            table = request["TableName"]
            key = request.get("Key") or request.get("Item") or {}
            found.append(
                Authorization(
                    TRANSACT_ITEM_ACTIONS[kind],
                    stack.table_arn(table),
                    stack.leading_keys(table, key),
                )
            )
        return found
    if operation == "BatchGetItem":
        return [
            Authorization(action, stack.table_arn(table), stack.leading_keys(table, *req["Keys"]))
            for table, req in params["RequestItems"].items()
        ]
    if operation == "BatchWriteItem":
        found = []
        for table, writes in params["RequestItems"].items():
            keys = [
                w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"] for w in writes
            ]
            found.append(
                Authorization(action, stack.table_arn(table), stack.leading_keys(table, *keys))
            )
        return found
    table = params["TableName"]
    arn = stack.table_arn(table, params.get("IndexName"))
    key = params.get("Key") or params.get("Item")
    context = stack.leading_keys(table, key) if key else _query_leading_keys(stack, table, params)
    return [Authorization(action, arn, context)]


def _query_leading_keys(
    stack: Stack, table: str, params: Mapping[str, Any]
) -> dict[str, tuple[str, ...]]:
    """A Query's partition key value, when its key condition is "<hash key> = :value" (PynamoDB
    writes "#0 = :0"). Other shapes give no value: a LeadingKeys condition then fails closed."""
    expression = str(params.get("KeyConditionExpression", ""))
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    hash_key = stack.table_hash_keys.get(table)
    if params.get("IndexName") or hash_key is None:
        return {}
    for name, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", expression):
        if names.get(name, name) == hash_key and value in values:
            return {"dynamodb:LeadingKeys": (str(next(iter(values[value].values()))),)}
    return {}


# ---------------------------------------------------------------- policies


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    """IAM's wildcard match (* and ?); actions compare case-insensitively."""
    return fnmatch.fnmatchcase(value, pattern)


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


_OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _matches,
}


def _condition_holds(conditions: Mapping[str, Any], context: Mapping[str, Sequence[str]]) -> bool:
    for operator, tests in conditions.items():
        qualifier, _, name = operator.rpartition(":")
        if name not in _OPERATORS:
            raise ValueError(f"condition operator {operator} is not modelled here")
        compare = _OPERATORS[name]
        for key, patterns in tests.items():
            values = context.get(key)
            patterns = _as_list(patterns)
            if qualifier == "ForAllValues":
                # IAM: true when the key is absent or every value matches some pattern.
                if values and not all(any(compare(p, v) for p in patterns) for v in values):
                    return False
            elif qualifier == "":
                if not values or not any(compare(p, values[0]) for p in patterns):
                    return False
            else:
                raise ValueError(f"condition qualifier {qualifier} is not modelled here")
    return True


@dataclass
class Policy:
    """The statements of one function's role, intrinsic functions already resolved."""

    statements: list[dict[str, Any]]

    def _applies(self, statement: Mapping[str, Any], request: Authorization) -> bool:
        if not any(_action_matches(a, request.action) for a in _as_list(statement["Action"])):
            return False
        if not any(_matches(r, request.resource) for r in _as_list(statement["Resource"])):
            return False
        return _condition_holds(statement.get("Condition", {}), request.context)

    def allows(self, request: Authorization) -> bool:
        applying = [s for s in self.statements if self._applies(s, request)]
        if any(s["Effect"] == "Deny" for s in applying):
            return False
        return any(s["Effect"] == "Allow" for s in applying)

    def grants(self, service: str) -> list[Grant]:
        """Every (action, resource) the Allow statements name for a service."""
        return [
            Grant(str(s.get("Sid", "")), action, resource)
            for s in self.statements
            if s["Effect"] == "Allow"
            for action in _as_list(s["Action"])
            if action.startswith(f"{service}:")
            for resource in _as_list(s["Resource"])
        ]

    def used(self, grant: Grant, requests: Iterable[Authorization]) -> bool:
        """Some request this grant's own statement allows through this action and resource."""
        for statement in self.statements:
            if statement["Effect"] != "Allow" or str(statement.get("Sid", "")) != grant.sid:
                continue
            if grant.action not in _as_list(statement["Action"]):
                continue
            if grant.resource not in _as_list(statement["Resource"]):
                continue
            narrowed = {**statement, "Action": grant.action, "Resource": grant.resource}
            if any(self._applies(narrowed, r) and self.allows(r) for r in requests):
                return True
        return False


class Resolver:
    """CloudFormation intrinsic functions -> strings, for IAM statements: Ref, Fn::GetAtt,
    Fn::Sub, Fn::Join, Fn::If (with the template's conditions)."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        physical: Mapping[str, str],  # logical id -> physical id (what Ref gives)
        stack: Stack,
        stack_name: str,
    ) -> None:
        self._resources = template["Resources"]
        self._conditions = template.get("Conditions", {})
        defaults = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self._parameters = {**defaults, **parameters}
        self._physical = physical
        self._stack = stack
        self._pseudo = {
            "AWS::Region": stack.region,
            "AWS::AccountId": stack.account,
            "AWS::Partition": stack.partition,
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def ref(self, name: str) -> str:
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        return self._physical.get(name, name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resources.get(logical_id, {}).get("Type", "")
        name = self._physical.get(logical_id, logical_id)
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return self._stack.table_arn(name)
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return name
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{self._stack.partition}:s3:::{name}"
        if attribute == "Arn":
            service = kind.split("::")[1].lower() if "::" in kind else "unknown"
            stack = self._stack
            return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{name}"
        return name  # Name, QueueName, ...: the physical name

    def condition(self, name: str) -> bool:
        return bool(self.value(self._conditions[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, arg)] = node.items()
            function = self._functions().get(key)
            if function is not None:
                return function(arg)
        return {k: self.value(v) for k, v in node.items()}

    def _functions(self) -> dict[str, Any]:
        return {
            "Ref": self.ref,
            "Fn::GetAtt": lambda arg: self.get_att(
                *(arg if isinstance(arg, list) else arg.split(".", 1))
            ),
            "Fn::Sub": self._fn_sub,
            "Fn::Join": lambda arg: arg[0].join(str(self.value(p)) for p in arg[1]),
            "Fn::If": lambda arg: self.value(arg[1] if self.condition(arg[0]) else arg[2]),
            "Fn::Equals": lambda arg: self.value(arg[0]) == self.value(arg[1]),
            "Fn::Not": lambda arg: not self.value(arg[0]),
            "Fn::And": lambda arg: all(self.value(a) for a in arg),
            "Fn::Or": lambda arg: any(self.value(a) for a in arg),
            "Condition": self.condition,
        }

    def _fn_sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        resolved = {k: str(self.value(v)) for k, v in variables.items()}
        return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub(m[1], resolved), text)

    def _sub(self, name: str, variables: Mapping[str, str]) -> str:
        if name in variables:
            return variables[name]
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.get_att(logical_id, attribute)
        return self.ref(name)


NO_VALUE = "AWS::NoValue"


def function_policies(template: Mapping[str, Any], resolver: Resolver) -> dict[str, Policy]:
    """Each Lambda function's role's inline statements (managed policies grant no DynamoDB or
    SNS here: AWSLambdaBasicExecutionRole and the X-Ray write policy)."""
    resources = template["Resources"]
    policies: dict[str, Policy] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = []
        for policy in resources[role]["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                resolved = resolver.value(statement)
                resolved["Resource"] = [r for r in _as_list(resolved["Resource"]) if r != NO_VALUE]
                statements.append(resolved)
        policies[logical_id] = Policy(statements)
    return policies


def table_hash_keys(template: Mapping[str, Any], physical: Mapping[str, str]) -> dict[str, str]:
    return {
        physical.get(logical_id, logical_id): next(
            k["AttributeName"]
            for k in resource["Properties"]["KeySchema"]
            if k["KeyType"] == "HASH"
        )
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


class Enforcer:
    """botocore hooks for every client made while installed: a DynamoDB or SNS request made
    from inside a function's handler (`calling` names the function, or None) is recorded and,
    when that function's role does not allow it, answered with AccessDeniedException as AWS
    would (before-call short-circuit: the function's own error handling sees a real
    ClientError)."""

    def __init__(
        self,
        policies: Mapping[str, Policy],
        stack: Stack,
        calling: Any,  # () -> function logical id | None
        policies_for: Any = None,  # (parameter values) -> the policies deployed with them
        keep_requests: bool = True,  # False for a long-running stack: only refusals are kept
    ) -> None:
        self.policies = policies
        self.keep_requests = keep_requests
        self.policies_for = policies_for
        self.stack = stack
        self._calling = calling
        self.requests: dict[str, list[Authorization]] = {}
        self.denied: list[tuple[str, Authorization]] = []

    def hook(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build", self._check)
        client.meta.events.register("before-call", self._answer)

    def _check(self, params: Mapping[str, Any], model: Any, context: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if service not in ENFORCED_SERVICES:
            return
        function = self._calling()
        if function is None or function not in self.policies:
            return
        wanted = authorizations(self.stack, service, model.name, params)
        if self.keep_requests:
            self.requests.setdefault(function, []).extend(wanted)
        refused = [a for a in wanted if not self.policies[function].allows(a)]
        if refused:
            self.denied.extend((function, a) for a in refused)
            context["iam_denied"] = refused[0]

    def _answer(self, context: Any, **_: Any) -> Any:
        refused = context.get("iam_denied")
        if refused is None:
            return None
        from botocore.awsrequest import AWSResponse

        message = f"not authorized to perform: {refused.action} on resource: {refused.resource}"
        response = AWSResponse("https://iam.local", 400, {}, None)
        return response, {"Error": {"Code": "AccessDeniedException", "Message": message}}


# The local stack: one enforcer at a time for the whole process (the adapter hooks every client
# once; a stack started later in the same process replaces the enforcer with its own names).
_ACTIVE: list[Enforcer] = []


def enforce(enforcer: Enforcer | None) -> None:
    _ACTIVE[:] = [enforcer] if enforcer is not None else []


def hook_active(client: Any) -> None:
    """Hooks that ask the enforcer active at the time of each request (if any)."""

    def check(**kwargs: Any) -> None:
        if _ACTIVE:
            _ACTIVE[0]._check(**kwargs)

    def answer(**kwargs: Any) -> Any:
        return _ACTIVE[0]._answer(**kwargs) if _ACTIVE else None

    client.meta.events.register("before-parameter-build", check)
    client.meta.events.register("before-call", answer)
