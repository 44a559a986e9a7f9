"""The IAM statements of template.yaml: DynamoDB granted per action on the tables and indexes
each function uses (the style docs/architecture.md describes), SMS publishing kept to SMS, and
the policy evaluator (infra/local/iam.py) the integration tests enforce them with."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from infra.local.iam import (
    Authorization,
    Policy,
    Resolver,
    Stack,
    authorizations,
    function_policies,
    table_hash_keys,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
WITH_POLICIES = {
    name: r
    for name, r in RESOURCES.items()
    if r["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
}
TABLES = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"}
STACK = Stack(
    "eu-north-1", "123456789012", {"invitations": "invitation_id", "aggregates": "series"}
)


def _statements(policies: list[Any]) -> list[dict[str, Any]]:
    return [
        s for policy in policies if isinstance(policy, dict) for s in policy.get("Statement", [])
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


@pytest.mark.parametrize("name", sorted(WITH_POLICIES))
def test_dynamodb_is_granted_per_table_and_index_never_by_sam_policy_templates(name: str) -> None:
    policies = WITH_POLICIES[name]["Properties"].get("Policies", [])
    templates = {key for p in policies if isinstance(p, dict) for key in p if key != "Statement"}
    assert not {t for t in templates if t.startswith("DynamoDB")}, f"{name}: {templates}"
    for statement in _statements(policies):
        dynamodb = [a for a in _actions(statement) if a.startswith("dynamodb:")]
        if not dynamodb:
            continue
        # One table (or one of its indexes) per statement, named in the Sid; no wildcard action,
        # no Scan, no table-wide read of everything
        assert dynamodb == _actions(statement), statement
        assert not {"dynamodb:Scan", "dynamodb:DescribeTable"} & set(dynamodb), statement
        resource = statement["Resource"]
        if "Fn::GetAtt" in resource:
            table, attribute = resource["Fn::GetAtt"]
            assert attribute == "Arn" and table in TABLES, statement
            assert statement["Sid"].startswith(table), statement
        else:
            match = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", resource["Fn::Sub"])
            assert match and match[1] in TABLES, statement
            assert dynamodb == ["dynamodb:Query"], statement
            camel = "".join(p.capitalize() for p in match[2].split("_"))  # by_link_token
            assert statement["Sid"] == f"{match[1]}{camel}", statement


def test_the_state_machine_may_do_exactly_its_asl_dynamodb_tasks() -> None:
    machine = RESOURCES["SurveyLifecycle"]["Properties"]
    asl = json.loads((ROOT / machine["DefinitionUri"]).read_text(encoding="utf-8"))
    used = {
        "dynamodb:"
        + state["Resource"].rsplit(":", 1)[1][:1].upper()
        + state["Resource"].rsplit(":", 1)[1][1:]
        for state in asl["States"].values()
        if state.get("Resource", "").startswith("arn:aws:states:::dynamodb:")
    }
    granted = {
        action
        for statement in _statements(machine["Policies"])
        for action in _actions(statement)
        if action.startswith("dynamodb:")
    }
    assert used == granted == {"dynamodb:UpdateItem"}


@pytest.mark.parametrize("name", sorted(WITH_POLICIES))
def test_publishing_to_any_resource_is_only_for_sms(name: str) -> None:
    statements = _statements(WITH_POLICIES[name]["Properties"].get("Policies", []))
    anywhere = [
        s
        for s in statements
        if s["Effect"] == "Allow" and "sns:Publish" in _actions(s) and s["Resource"] == "*"
    ]
    denied = [s for s in statements if s["Effect"] == "Deny" and "sns:Publish" in _actions(s)]
    if anywhere:
        assert [d["Resource"] for d in denied] == [
            {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}
        ], name


# ---------------------------------------------------------------- the evaluator


def test_a_transaction_needs_each_items_own_action_with_its_partition_key() -> None:
    params = {
        "TransactItems": [
            {"Put": {"TableName": "invitations", "Item": {"invitation_id": {"S": "i-1"}}}},
            {"Update": {"TableName": "aggregates", "Key": {"series": {"S": "s#nps"}}}},
            {"ConditionCheck": {"TableName": "invitations", "Key": {"invitation_id": {"S": "i"}}}},
            {"Delete": {"TableName": "aggregates", "Key": {"series": {"S": "x"}}}},
        ]
    }
    found = authorizations(STACK, "dynamodb", "TransactWriteItems", params)
    table = "arn:aws:dynamodb:eu-north-1:123456789012:table/"
    assert [(a.action, a.resource, dict(a.context)) for a in found] == [
        ("dynamodb:PutItem", table + "invitations", {"dynamodb:LeadingKeys": ("i-1",)}),
        ("dynamodb:UpdateItem", table + "aggregates", {"dynamodb:LeadingKeys": ("s#nps",)}),
        ("dynamodb:ConditionCheckItem", table + "invitations", {"dynamodb:LeadingKeys": ("i",)}),
        ("dynamodb:DeleteItem", table + "aggregates", {"dynamodb:LeadingKeys": ("x",)}),
    ]


def test_a_query_on_an_index_needs_the_indexs_arn() -> None:
    [query] = authorizations(
        STACK, "dynamodb", "Query", {"TableName": "invitations", "IndexName": "by_link_token"}
    )
    assert query.resource.endswith(":table/invitations/index/by_link_token")
    [batch] = authorizations(
        STACK,
        "dynamodb",
        "BatchGetItem",
        {"RequestItems": {"invitations": {"Keys": [{"invitation_id": {"S": "a"}}]}}},
    )
    assert (batch.action, batch.resource.rsplit("/", 1)[1]) == (
        "dynamodb:BatchGetItem",
        "invitations",
    )


def _policies() -> dict[str, Policy]:
    from infra.local.stack import DEFAULT_PARAMETERS
    from infra.local.template import build_local_template

    template = build_local_template(dict(DEFAULT_PARAMETERS), "eu-north-1").cloudformation
    stack = Stack("eu-north-1", "123456789012", table_hash_keys(template, {}))
    resolver = Resolver(template, dict(DEFAULT_PARAMETERS), {}, stack, "feedback")
    return function_policies(template, resolver)


def test_the_evaluator_reads_the_templates_roles() -> None:
    policies = _policies()
    table = "arn:aws:dynamodb:eu-north-1:123456789012:table/"
    report = policies["ReportFunction"]
    log = {"dynamodb:LeadingKeys": ("report-log#managers",)}
    counters = {"dynamodb:LeadingKeys": ("post-purchase#nps",)}
    # Only report-log items may be written by the report, and nothing may be scanned
    assert report.allows(Authorization("dynamodb:PutItem", table + "AggregatesTable", log))
    assert not report.allows(Authorization("dynamodb:PutItem", table + "AggregatesTable", counters))
    assert not report.allows(Authorization("dynamodb:Scan", table + "AggregatesTable"))
    assert report.allows(
        Authorization("dynamodb:Query", table + "ResponsesTable/index/by_comment_day")
    )
    assert not report.allows(Authorization("dynamodb:Query", table + "ResponsesTable"))
    # SMS only: a phone number yes, a topic (even a same-account one) no
    send = policies["SendFunction"]
    assert send.allows(Authorization("sns:Publish", "*"))
    topic = "arn:aws:sns:eu-north-1:123456789012:anything"
    assert not send.allows(Authorization("sns:Publish", topic))
    # A function without a grant for a table may not touch it
    assert not policies["CohortsFunction"].allows(
        Authorization("dynamodb:GetItem", table + "ResponsesTable")
    )
