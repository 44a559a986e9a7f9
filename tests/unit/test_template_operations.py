"""template.yaml's operational promises: every checkov skip says why, every wildcard resource
says why, every function has a bounded log group and an error alarm, every alarm can notify,
and the dashboard shows only metrics the code emits."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "template.yaml").read_text(encoding="utf-8")
TEMPLATE: dict[str, Any] = yaml_parse(TEXT)
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


FUNCTIONS = of_type("AWS::Serverless::Function")


def test_every_checkov_skip_carries_its_reason() -> None:
    skips = [
        (name, skip)
        for name, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "no skips found: the test would pass on a renamed key"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 6, f"{name}: {skip['id']} needs a reason"


def _statements(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            found.append(node)
        for value in node.values():
            found.extend(_statements(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_statements(item))
    return found


def test_no_action_wildcards_and_each_star_resource_is_explained() -> None:
    statements = _statements(RESOURCES)
    assert len(statements) > 10
    for statement in statements:
        if statement["Effect"] == "Deny":
            continue  # a deny may cover a whole service (the lake buckets' TLS-only policies)
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            assert "*" not in action, statement
    stars = [i for i, line in enumerate(TEXT.splitlines()) if re.search(r'Resource: "\*"', line)]
    assert stars, "the SMS statements need Resource '*': the scan must see them"
    lines = TEXT.splitlines()
    for index in stars:
        # The comment sits on the lines right above: why this service needs "*".
        above = " ".join(lines[index - 2 : index])
        assert "#" in above and ("requires" in above or "support" in above), lines[index]


def test_every_function_has_a_log_group_with_retention_and_an_error_alarm() -> None:
    groups = of_type("AWS::Logs::LogGroup").values()
    named = {g["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups}
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/Lambda"
    }
    for name in FUNCTIONS:
        assert f"/aws/lambda/${{{name}}}" in named, name
        assert name in alarmed, name
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_alarm_notifies_the_optional_topic_and_ignores_missing_data() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert {"FailedDeliveriesAlarm", "FailedSurveysAlarm", "EmailBounceRateAlarm"} <= set(alarms)
    notify = {"Fn::If": ["NotifyAlarms", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == notify and props["OKActions"] == notify, name
        assert props["TreatMissingData"] == "notBreaching", name
        assert props.get("AlarmDescription"), name


def test_functions_that_run_asynchronously_dead_letter_their_failures() -> None:
    # Synchronous callers (API Gateway, Step Functions) see the error themselves; a stream
    # event source mapping has its own OnFailure destination.
    synchronous = {"CollectFunction", "SendFunction", "ResultsFunction"}
    for name, function in FUNCTIONS.items():
        streams = [
            e["Properties"]
            for e in function["Properties"].get("Events", {}).values()
            if e["Type"] == "DynamoDB"
        ]
        for stream in streams:
            destination = stream["DestinationConfig"]["OnFailure"]["Destination"]
            assert destination == {"Fn::GetAtt": ["FailedDeliveriesQueue", "Arn"]}, name
            assert "ReportBatchItemFailures" in stream["FunctionResponseTypes"], name
        if name in synchronous or streams:
            continue
        on_failure = function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure["Destination"] == {"Fn::GetAtt": ["FailedDeliveriesQueue", "Arn"]}, name


def _emitted_metric_names() -> set[str]:
    """Metric names the functions add: literal names and f-string prefixes ("Sent_")."""
    names: set[str] = set()
    for path in (ROOT / "functions").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names.update(re.findall(r'name="(\w+)"', source))
        names.update(re.findall(r'name=f"(\w+)\{', source))
        for mapping in re.findall(r"_METRICS = \{(.*?)\}", source, flags=re.S):
            names.update(re.findall(r':\s*"(\w+)"', mapping))
    return names


def test_the_dashboard_shows_only_metrics_the_code_emits() -> None:
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(body)  # valid JSON once CloudFormation fills in the ${...}
    emitted = _emitted_metric_names()
    shown = [
        metric[1]
        for widget in dashboard["widgets"]
        for metric in widget.get("properties", {}).get("metrics", [])
        if isinstance(metric[0], str) and metric[0] == "CustomerFeedback"
    ]
    assert len(shown) >= 10
    for name in shown:
        assert name in emitted or any(
            name.startswith(prefix) for prefix in emitted if prefix.endswith("_")
        ), f"dashboard shows {name}, which no function emits"


def test_retention_is_a_parameter_per_entity_and_reaches_every_function() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for entity in ("Customer", "Invitation", "Response", "Escalation"):
        parameter = TEMPLATE["Parameters"][f"{entity}RetentionDays"]
        assert parameter["MinValue"] >= 30
        assert variables[f"{entity.upper()}_RETENTION_DAYS"] == {"Ref": f"{entity}RetentionDays"}
    for name in ("CustomersTable", "InvitationsTable", "ResponsesTable", "EscalationsTable"):
        ttl = RESOURCES[name]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expires_at", "Enabled": True}, name


def test_the_readme_deploy_table_lists_every_parameter() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \|", readme, flags=re.M))
    assert set(TEMPLATE["Parameters"]) <= rows, set(TEMPLATE["Parameters"]) - rows


def _rule_pattern(function: str, event: str) -> dict[str, Any]:
    return dict(FUNCTIONS[function]["Properties"]["Events"][event]["Properties"]["Pattern"])


def test_the_aws_sample_events_reach_their_functions() -> None:
    from moto.events.models import EventPattern
    from survey_core.logic.replies import InboundSms

    samples = ROOT / "events" / "aws"
    contact = json.loads((samples / "connect-task-connected-to-agent.json").read_text())
    pattern = _rule_pattern("FollowUpFunction", "TaskContactEvents")
    # The instance ARN is built with !Sub from the parameters: fill in the sample's instance,
    # under both casings of its key.
    instance = contact["detail"]["instanceArn"]
    pattern["detail"]["$or"] = [{key: [instance]} for key in ("instanceArn", "instanceARN")]
    contact_rule = EventPattern.load(json.dumps(pattern))
    for name in (
        "connect-task-connected-to-agent.json",
        "connect-task-transferred-initiated.json",  # a transfer's new contact
        "connect-task-disconnected-older-shape.json",  # AgentInfo, instanceARN, "Task"
    ):
        assert contact_rule.matches_event(json.loads((samples / name).read_text())), name
    other_instance = json.loads(json.dumps(contact).replace(instance[-12:], "999999999999"))
    assert not contact_rule.matches_event(other_instance)
    for name in ("ses-email-bounced.json", "ses-email-complaint.json"):
        ses = json.loads((samples / name).read_text())
        feedback = _rule_pattern("DeliveryFunction", "EmailFeedback")
        configuration_set = ses["detail"]["mail"]["tags"]["ses:configuration-set"]
        feedback["detail"]["mail"]["tags"]["ses:configuration-set"] = configuration_set
        assert EventPattern.load(json.dumps(feedback)).matches_event(ses), name
    # Two-way SMS: End User Messaging's message, as the SNS topic delivers it.
    sms = InboundSms.from_sns_message((samples / "inbound-sms.json").read_text())
    assert (sms.sender, sms.body) == ("+358401234567", "9 quick delivery")


# What shows that a function may call a service: a SAM policy template, or a statement with an
# action of the service. Coarse on purpose (which action, which resource is the template's
# business); it catches a client made without any permission for it, which moto, enforcing no
# IAM, never would. DynamoDB goes through the PynamoDB models and their table policies.
SERVICE_PERMISSIONS = {
    "stepfunctions": ("StepFunctionsExecutionPolicy", "states:"),
    "events": ("EventBridgePutEventsPolicy", "events:"),
    "sesv2": ("", "ses:"),
    "sns": ("SNSPublishMessagePolicy", "sns:"),
    "sqs": ("SQSSendMessagePolicy", "sqs:"),
    "connect": ("", "connect:"),
    "scheduler": ("", "scheduler:"),
    "s3": ("", "s3:"),
    "secretsmanager": ("", "secretsmanager:"),
}
# Clients a function's module makes that its own handler never calls, and why.
NEVER_CALLED = {
    ("FollowUpFunction", "connect"): "handler.py is shared with EscalateFunction",
    ("FollowUpFunction", "events"): "handler.py is shared with EscalateFunction",
    ("FollowUpFunction", "sns"): "handler.py is shared with EscalateFunction",
}


# Clients for APIs that take no IAM permission, and why.
UNSIGNED = {
    ("ResultsFunction", "cognito-idp"): "InitiateAuth (the local stack's sign-in page only) "
    "is a public API of the user pool: no IAM action exists for it",
}


def _clients_made(function: dict[str, Any]) -> set[str]:
    properties = function["Properties"]
    module = properties.get("Handler", "").split(".")[0]
    source = (ROOT / properties["CodeUri"] / f"{module}.py").read_text(encoding="utf-8")
    return set(re.findall(r"""client\(\s*["']([a-z0-9-]+)["']""", source))


@pytest.mark.parametrize("name", sorted(of_type("AWS::Serverless::Function")))
def test_every_client_a_function_makes_is_allowed_by_its_policies(name: str) -> None:
    function = RESOURCES[name]
    policies = function["Properties"].get("Policies", [])
    templates = {key for policy in policies if isinstance(policy, dict) for key in policy}
    actions = [
        action
        for statement in _statements(policies)
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    ]
    made = _clients_made(function) - {s for (n, s) in UNSIGNED if n == name}
    assert made <= set(SERVICE_PERMISSIONS), f"{name}: map {made - set(SERVICE_PERMISSIONS)}"
    for service in made - {s for (n, s) in NEVER_CALLED if n == name}:
        template, prefix = SERVICE_PERMISSIONS[service]
        allowed = template in templates or any(a.startswith(prefix) for a in actions)
        assert allowed, f"{name} makes a {service} client but may call nothing of {service}"


def test_expiry_schedules_may_call_only_the_send_function_and_only_send_plans_them() -> None:
    # The role each survey's expiry schedule runs with invokes the send function and
    # dead-letters to the failed-deliveries queue: nothing else.
    role = RESOURCES["ExpirySchedulerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"
    }
    assert "Policies" not in role  # in a policy of its own: no dependency cycle with SendFunction
    policy = RESOURCES["ExpirySchedulerPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "ExpirySchedulerRole"}]
    assert {
        (s["Action"], json.dumps(s["Resource"])) for s in policy["PolicyDocument"]["Statement"]
    } == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": ["SendFunction", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["FailedDeliveriesQueue", "Arn"]})),
    }
    # Only the send function creates schedules, in the expiry group, and passes only that role
    # (and only to Scheduler).
    planners = {
        name
        for name, function in FUNCTIONS.items()
        for statement in _statements(function["Properties"].get("Policies", []))
        if "scheduler:CreateSchedule" in statement["Action"]
    }
    assert planners == {"SendFunction"}
    statements = {
        s["Sid"]: s for s in _statements(FUNCTIONS["SendFunction"]["Properties"]["Policies"])
    }
    assert (
        "${SurveyExpiryScheduleGroup}/expire-*"
        in statements["PlanSurveyExpiry"]["Resource"]["Fn::Sub"]
    )
    passing = statements["PassExpirySchedulerRole"]
    assert passing["Resource"] == {"Fn::GetAtt": ["ExpirySchedulerRole", "Arn"]}
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
