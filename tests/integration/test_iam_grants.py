"""Least privilege, checked: every function's role grants exactly the DynamoDB actions its code
calls. The `deployment` fixture enforces each role on the functions' DynamoDB and SNS requests
in every integration test (infra/local/iam.py: a request the role does not allow fails with
AccessDeniedException, as in AWS), which catches a used action that is not granted. Here each
function runs through every path that reaches DynamoDB, and every (action, resource) its role
grants must have been used by one of its requests: a grant nothing uses fails the test. A new
function needs a scenario here (test_every_function_has_a_scenario)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import AwsCalls, lambda_context, post_form, run_outbox
from tests.integration.test_delivery import _delivery, _emailed, _report
from tests.integration.test_escalate import MONDAY_NOON, _event, _store_response
from tests.integration.test_follow_up import C2, TASK
from tests.integration.test_follow_up import event as follow_up_event
from tests.integration.test_report import MONDAY_0700_HELSINKI, _answered
from tests.integration.test_send import FIXED_CLOCK, _rung, _start
from tests.integration.test_sms_reply import _reply, _sms_sent
from tests.integration.test_trigger_rules import NOW, _activity, _decide, _run_cohorts, _trigger

pytestmark = pytest.mark.integration


def _trigger_paths(deployment: Deployment) -> None:
    from tests.conftest import example_event

    trigger = deployment.load("TriggerFunction", LOCAL_CLOCK=FIXED_CLOCK)
    # A new invitation loses the race for the customer's contact time once: re-read, retry
    invitations = trigger.PORTS.repos.invitations
    contact_changed = trigger.handle_event.__globals__["ContactChanged"]  # the function's own
    original, lost = invitations.schedule, []

    def race(*args: Any, **kwargs: Any) -> Any:
        if not lost:
            lost.append(True)
            raise contact_changed()
        return original(*args, **kwargs)

    invitations.schedule = race
    event = example_event("purchase-completed.json")
    assert trigger.lambda_handler(event, lambda_context())["decisions"][0]["outcome"] == "started"
    invitations.schedule = original
    # The same purchase again: a duplicate, read back
    again = trigger.lambda_handler(event, lambda_context())["decisions"][0]
    assert again["outcome"] == "duplicate"
    # A customer no channel can reach: stored suppressed, alone
    event["detail"]["orderId"] = "A-2"
    event["detail"]["customer"] = {"id": "cust-unreachable"}
    assert (
        trigger.lambda_handler(event, lambda_context())["decisions"][0]["outcome"] == "suppressed"
    )


def _send_paths(deployment: Deployment) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    assert _rung(send, invitation, 0)["outcome"] == "sent"


def _collect_paths(deployment: Deployment) -> None:
    invitation = _start(deployment)
    token = invitation["link_token"]["S"]
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        assert client.http.get(f"/s/{token}?score=9").status_code == 200
        assert post_form(client, f"/s/{token}", "score=9").status_code == 200
        assert client.http.get(f"/u/{token}").status_code == 200
        assert post_form(client, f"/u/{token}", "channel=email").status_code == 200


def _outbox_paths(deployment: Deployment) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    assert _rung(send, invitation, 0, token="wait")["outcome"] == "sent"
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        assert (
            post_form(client, f"/s/{invitation['link_token']['S']}", "score=9").status_code == 200
        )
    # The answer's stream record: the invitation's task token read, the wait ended
    assert run_outbox(deployment) == [{"batchItemFailures": []}]


def _sms_reply_paths(deployment: Deployment) -> None:
    _sms_sent(deployment, "A-1", "cust-sms", at_hours=24)
    assert _reply(deployment, "great", at_hours=30) is None  # unreadable: the one help SMS
    assert _reply(deployment, "9", at_hours=30) is None  # an answer
    assert _reply(deployment, "STOP", at_hours=30) is None  # an opt-out


def _escalation_paths(deployment: Deployment) -> None:
    _store_response(deployment, "Paketti hukassa")
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-5"})
        result = escalate.lambda_handler(_event({"nps": 3}), lambda_context())
        # The same event again (EventBridge delivers at least once): the claim is read back
        again = escalate.lambda_handler(_event({"nps": 3}), lambda_context())
    assert (result["outcome"], again["outcome"]) == ("created", "already-created")
    follow = deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON)
    # The task is transferred (a new contact of its chain: a link item), then completed
    for raw in (
        follow_up_event("CONNECTED_TO_AGENT", 2),
        follow_up_event("INITIATED", 3, C2, previous=TASK),
        follow_up_event("DISCONNECTED", 3, TASK, agent_at=2),
        follow_up_event("DISCONNECTED", 30, C2, previous=TASK),
    ):
        follow.follow_up_handler(raw, lambda_context())


def _delivery_paths(deployment: Deployment) -> None:
    invitation, _ = _emailed(deployment)
    delivery, _ = _delivery(deployment)
    result = _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    assert result["outcome"] == "fallback"


def _report_paths(deployment: Deployment) -> None:
    _answered(deployment)
    report = deployment.load("ReportFunction")
    # The first due report's email is refused: its claim is released (DeleteItem), the others
    # go, and the run fails for Scheduler to retry; the retry sends the missing one
    AwsCalls(report.MAILER._ses, "SendEmail").fail_next("MessageRejected")
    with pytest.raises(Exception, match="reports not sent: Leadership"):
        report.lambda_handler({"scheduledTime": MONDAY_0700_HELSINKI}, lambda_context())
    result = report.lambda_handler({"scheduledTime": MONDAY_0700_HELSINKI}, lambda_context())
    assert sorted(r["outcome"] for r in result["reports"]) == [
        "already-sent",
        "already-sent",
        "sent",
    ]


def _cohort_paths(deployment: Deployment) -> None:
    for customer, days in (("cust-quiet", 90), ("cust-old", 100)):
        when = NOW - timedelta(days=days)
        _decide(_trigger(deployment, when), _activity(customer, when))
    result = _run_cohorts(deployment, NOW.replace(hour=5, minute=30))
    assert result["inactive"] + result["requested"] >= 2


def _lake_export_paths(deployment: Deployment) -> None:
    from tests.integration.test_lake_export import CUSTOMER, _answered, _export, _tables

    # A detractor's answer with a comment, escalated: rows of every lake table
    invitation = _answered(deployment)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    event = _event({"nps": 3}, invitationId=invitation["invitation_id"]["S"], customerId=CUSTOMER)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-lake"})
        assert escalate.lambda_handler(event, lambda_context())["outcome"] == "created"
    assert _export(deployment) == {"batchItemFailures": []}
    # The customer erased: the partitions read and rewritten without pseudonym and comments
    from tools.customer_data import main as customer_data

    erase = ["erase", "--customer-id", CUSTOMER, "--yes"]
    assert customer_data(erase, environ=_tables(deployment)) == 0
    assert _export(deployment) == {"batchItemFailures": []}


def _results_paths(deployment: Deployment) -> None:
    # A signed-in cx-admin's overview (the sign-in itself: test_results_app.py) reads what a
    # report reads, and the export; the form key was read when the function loaded
    import sys
    from datetime import UTC, datetime

    results = deployment.load("ResultsFunction")
    access = sys.modules["survey_core.access"]  # the copy the function loaded with
    admin = results.Principal(
        "sub-1", None, access.Role.CX_ADMIN, access.ALL, "jti-1", datetime.now(UTC)
    )
    results._principal = lambda: admin
    _answered(deployment)  # something to read
    invitation = deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("InvitationsTable")
    )["Items"][0]["invitation_id"]["S"]
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    event = _event({"nps": 3}, invitationId=invitation, customerId="cust-results")
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-results"})
        assert escalate.lambda_handler(event, lambda_context())["outcome"] == "created"
    with Client(results.app) as client:
        assert client.http.get("/results?period=4-weeks").status_code == 200
        assert client.http.get("/results/segments?period=4-weeks").status_code == 200
        assert client.http.get("/results/comments?period=4-weeks").status_code == 200
        csv = client.http.get("/results/comments.csv", headers={"Accept": "*/*"})
        assert csv.status_code == 200
        assert client.http.get("/results/export.xlsx", headers={"Accept": "*/*"}).status_code == 200
        # The follow-up queue, a task's page (its answer's comment) and a manager's outcome
        queue = client.http.get("/results/follow-up")
        assert queue.status_code == 200 and invitation in queue.body.decode()
        assert client.http.get(f"/results/follow-up/{invitation}").status_code == 200
        form = {"csrf": results.csrf_token(results.form_key(), "jti-1"), "outcome": "resolved"}
        posted = client.http.post(
            f"/results/follow-up/{invitation}",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": results.ORIGIN,
            },
            body=urlencode(form),
        )
        assert posted.status_code == 303, posted.body


SCENARIOS: dict[str, Callable[[Deployment], None]] = {
    "TriggerFunction": _trigger_paths,
    "SendFunction": _send_paths,
    "CollectFunction": _collect_paths,
    "SmsReplyFunction": _sms_reply_paths,
    "OutboxFunction": _outbox_paths,
    "EscalateFunction": _escalation_paths,
    "FollowUpFunction": _escalation_paths,
    "DeliveryFunction": _delivery_paths,
    "ReportFunction": _report_paths,
    "CohortsFunction": _cohort_paths,
    "LakeExportFunction": _lake_export_paths,
    "ResultsFunction": _results_paths,
}


def test_every_function_has_a_scenario() -> None:
    from infra.local.template import read_sam_template

    resources = read_sam_template()["Resources"]
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(SCENARIOS), "add a scenario for each function's DynamoDB paths"


@pytest.mark.parametrize("function", sorted(SCENARIOS))
def test_every_dynamodb_grant_is_used_and_every_use_granted(
    deployment: Deployment, function: str
) -> None:
    # Given the stack with each function's role enforced
    # When the function runs through its paths (and the others it needs run theirs)
    SCENARIOS[function](deployment)
    # Then nothing any function did was refused
    assert deployment.iam.denied == []
    # and every DynamoDB, S3 and Secrets Manager action this function's role grants was used
    policy = deployment.iam.policies[function]
    requests = deployment.iam.requests.get(function, [])
    grants = [g for s in ("dynamodb", "s3", "secretsmanager") for g in policy.grants(s)]
    unused = [g for g in grants if not policy.used(g, requests)]
    assert unused == [], json.dumps([g.__dict__ for g in unused], indent=1)
