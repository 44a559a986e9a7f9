"""Access and erasure requests (tools/customer_data.py, dal/customer_data.py) against the
template's tables in moto, with data made by the real functions: the trigger, the survey app
(an answer with a comment, an SMS opt-out) and the escalate function (Connect stubbed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from tests.conftest import Deployment, example_event
from tests.integration.helpers import BusRecorder, lambda_context, post_form, run_outbox
from tools.customer_data import main

pytestmark = pytest.mark.integration

CUSTOMER = "cust-0001"
OTHER = "cust-0002"
EMAIL = "maija.meikalainen@example.com"  # events/purchase-completed.json
PHONE = "+358401234567"
OTHER_EMAIL = "matti.virtanen@example.com"
COMMENT = "Paketti myöhässä, soittakaa 0401234567"
MORE_PURCHASES = 30  # more invitations than one BatchWriteItem (25) deletes
PERSONAL = ("CustomersTable", "InvitationsTable", "ResponsesTable", "EscalationsTable")
KEPT = ("AggregatesTable", "SuppressionsTable")
STACK = ("--stack-name", "feedback")


@dataclass
class Data:
    deployment: Deployment
    answered: str  # the customer's answered (and escalated) invitation
    link_token: str
    other_answered: str


def _purchase(trigger: Any, order: str, customer: dict[str, Any] | None = None) -> str:
    event = example_event("purchase-completed.json")
    event["id"] = f"event-{order}"
    event["detail"]["orderId"] = order
    event["detail"]["customer"].update(customer or {})
    [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
    assert decision["outcome"] in ("started", "suppressed"), decision
    return str(decision["invitation_id"])


def _item(deployment: Deployment, logical_id: str, invitation_id: str) -> dict[str, Any] | None:
    return (
        deployment.client("dynamodb")
        .get_item(
            TableName=deployment.physical_id(logical_id),
            Key={"invitation_id": {"S": invitation_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )


def _link_token(deployment: Deployment, invitation_id: str) -> str:
    invitation = _item(deployment, "InvitationsTable", invitation_id)
    assert invitation is not None
    return str(invitation["link_token"]["S"])


def _scan(deployment: Deployment, logical_id: str) -> list[dict[str, Any]]:
    pages = (
        deployment.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=deployment.physical_id(logical_id), ConsistentRead=True)
    )
    return sorted((item for page in pages for item in page["Items"]), key=json.dumps)


def _of(items: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("customer_id", {}).get("S") == customer_id]


@pytest.fixture
def data(deployment: Deployment) -> Data:
    # The customer buys; the survey app gets a detractor's answer with a comment and an SMS
    # opt-out; the escalate function makes a callback task of the answer.
    trigger = deployment.load("TriggerFunction")
    answered = _purchase(trigger, "A-1001")
    token = _link_token(deployment, answered)
    recorder = BusRecorder(deployment)
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        assert post_form(client, f"/s/{token}", f"score=3&comment={COMMENT}").status_code == 200
        assert post_form(client, f"/u/{token}", "channel=sms").status_code == 200
    run_outbox(deployment)
    [received] = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    escalate = deployment.load("EscalateFunction")
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": "contact-1"})
        assert escalate.lambda_handler(received, lambda_context())["outcome"] == "created"
    # More purchases: each stores an invitation (deferred or suppressed by the fatigue rule)
    for n in range(MORE_PURCHASES):
        _purchase(trigger, f"A-2{n:03}")
    # Another customer, who answers too
    other = {"id": OTHER, "email": OTHER_EMAIL, "phone": "+358501112223"}
    other_answered = _purchase(trigger, "B-1", other)
    other_token = _link_token(deployment, other_answered)
    with Client(collect.app) as client:
        assert post_form(client, f"/s/{other_token}", "score=9").status_code == 200
    assert _item(deployment, "EscalationsTable", answered) is not None
    return Data(deployment, answered, token, other_answered)


def test_export_holds_everything_of_that_customer_and_nothing_of_another(
    data: Data, tmp_path: Path
) -> None:
    # When an operator exports the customer's data from the deployed stack
    out = tmp_path / "export.json"
    code = main(["export", "--customer-id", CUSTOMER, "--out", str(out), *STACK])
    # Then the file has the customer, every invitation, the response and the escalation
    assert code == 0
    assert out.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["customer_id"] == CUSTOMER
    assert document["customer"]["email"] == EMAIL
    assert document["customer"]["phone"] == PHONE
    stored = _of(_scan(data.deployment, "InvitationsTable"), CUSTOMER)
    assert len(stored) == 1 + MORE_PURCHASES
    assert sorted(i["invitation_id"] for i in document["invitations"]) == sorted(
        i["invitation_id"]["S"] for i in stored
    )
    assert {i["customer_id"] for i in document["invitations"]} == {CUSTOMER}
    [response] = document["responses"]
    assert (response["invitation_id"], response["comment"]) == (data.answered, COMMENT)
    assert response["scores"] == {"nps": 3}
    [escalation] = document["escalations"]
    assert (escalation["invitation_id"], escalation["contact_id"]) == (data.answered, "contact-1")
    # with datetimes as ISO strings
    for item in [document["customer"], *document["invitations"], response, escalation]:
        for name in ("expires_at", "updated_at", "created_at", "answered_at"):
            if name in item:
                datetime.fromisoformat(item[name])
    assert "expires_at" in document["invitations"][0]
    # and without the link tokens and other secrets, which it names instead
    text = out.read_text(encoding="utf-8")
    assert data.link_token not in text
    for name in ("link_token", "task_token", "sms_address"):
        assert all(name not in i for i in document["invitations"])
        assert name in document["omitted"]["invitations"]
    # and nothing of the other customer
    assert OTHER not in text and OTHER_EMAIL not in text and data.other_answered not in text


def test_export_leaves_out_the_hash_of_the_address_each_message_went_to(
    deployment: Deployment, tmp_path: Path
) -> None:
    # Given an invitation whose email went out (its attempt keeps the address's suppression key)
    invitation_id = _purchase(deployment.load("TriggerFunction"), "C-1")
    send = deployment.load("SendFunction")
    event = {"invitationId": invitation_id, "rung": 0, "taskToken": "t", "fallback": None}
    assert send.lambda_handler(event, lambda_context())["outcome"] == "sent"
    stored = _item(deployment, "InvitationsTable", invitation_id)
    assert stored is not None and "address_key" in stored["attempts"]["L"][0]["M"]
    # When the customer's data is exported
    out = tmp_path / "export.json"
    assert main(["export", "--customer-id", CUSTOMER, "--out", str(out), *STACK]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    # Then the attempt is there without the hash, which the document names instead
    [attempt] = document["invitations"][0]["attempts"]
    assert (attempt["channel"], attempt["outcome"]) == ("email", "sent")
    assert "address_key" not in attempt
    assert "attempts.address_key" in document["omitted"]["invitations"]


def test_export_reads_table_names_from_the_functions_environment(
    data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = dict(data.deployment.environments["CollectFunction"])
    assert main(["export", "--customer-id", OTHER], environ=environ) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["customer"]["email"] == OTHER_EMAIL
    assert [i["invitation_id"] for i in document["invitations"]] == [data.other_answered]
    assert [r["scores"] for r in document["responses"]] == [{"nps": 9}]
    assert document["escalations"] == []


def test_export_of_an_unknown_customer_exits_1(
    data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--customer-id", "nobody", *STACK]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nothing is stored for this customer id" in captured.err


def test_a_dry_run_counts_and_deletes_nothing(
    data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {table: _scan(data.deployment, table) for table in PERSONAL + KEPT}
    assert main(["erase", "--customer-id", CUSTOMER, *STACK]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing deleted" in out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()[1:5]}
    assert counts == {
        "escalations": 1,
        "responses": 1,
        "invitations": 1 + MORE_PURCHASES,
        "customers": 1,
    }
    assert {table: _scan(data.deployment, table) for table in PERSONAL + KEPT} == before


def test_erase_deletes_the_customer_only_and_keeps_counters_and_opt_outs(
    data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = data.deployment
    kept = {table: _scan(deployment, table) for table in KEPT}
    assert kept["AggregatesTable"] and kept["SuppressionsTable"]
    other = {table: _of(_scan(deployment, table), OTHER) for table in PERSONAL}
    assert all(other[table] for table in ("CustomersTable", "InvitationsTable", "ResponsesTable"))
    # and the lifecycle's wait item beside the answered invitation (a task token)
    wait = {"invitation_id": {"S": f"{data.answered}#wait"}, "task_token": {"S": "AQC-token"}}
    invitations = deployment.physical_id("InvitationsTable")
    deployment.client("dynamodb").put_item(TableName=invitations, Item=wait)
    # When the operator erases the customer
    assert main(["erase", "--customer-id", CUSTOMER, "--yes", *STACK]) == 0
    # Then nothing of theirs is left in any table
    captured = capsys.readouterr()
    assert "erased:" in captured.out
    for table in PERSONAL:
        assert _of(_scan(deployment, table), CUSTOMER) == [], table
    assert _item(deployment, "EscalationsTable", data.answered) is None  # has no customer_id
    assert _item(deployment, "InvitationsTable", f"{data.answered}#wait") is None
    # and the other customer's data, the counters and the (hashed) opt-out are as they were
    assert {table: _of(_scan(deployment, table), OTHER) for table in PERSONAL} == other
    assert {table: _scan(deployment, table) for table in KEPT} == kept
    # and the summary is counts only: no address, number, comment or link
    for secret in (EMAIL, PHONE, COMMENT, "0401234567", data.link_token, CUSTOMER):
        assert secret not in captured.out + captured.err
    counts = {line.split()[0]: int(line.split()[1]) for line in captured.out.splitlines()[1:5]}
    assert counts == {
        "escalations": 1,
        "responses": 1,
        "invitations": 1 + MORE_PURCHASES,
        "customers": 1,
    }
    # When it runs again: nothing to erase, and still success
    assert main(["erase", "--customer-id", CUSTOMER, "--yes", *STACK]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    assert main(["export", "--customer-id", CUSTOMER, *STACK]) == 1


def test_the_data_functions_read_and_erase_one_customer(data: Data) -> None:
    from survey_core.dal.customer_data import customer_records, erase_customer

    # (the models are bound to the template's tables by the functions loaded above)
    records = customer_records(CUSTOMER)
    assert records.found
    assert records.counts() == {
        "escalations": 1,
        "responses": 1,
        "invitations": 1 + MORE_PURCHASES,
        "customers": 1,
    }
    created = [i.created_at for i in records.invitations]
    assert created == sorted(created)  # oldest first, across every page of the index
    assert erase_customer(CUSTOMER) == records.counts()
    assert not customer_records(CUSTOMER).found
    assert erase_customer(CUSTOMER) == dict.fromkeys(records.counts(), 0)
    assert customer_records(OTHER).counts()["responses"] == 1


def test_erasing_an_unknown_customer_is_nothing_to_erase(
    data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["erase", "--customer-id", "nobody", *STACK]) == 0
    assert main(["erase", "--customer-id", "nobody", "--yes", *STACK]) == 0
    assert capsys.readouterr().out.count("nothing to erase") == 2


def test_without_table_names_the_command_cannot_run(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--customer-id", CUSTOMER], environ={}) == 2
    assert "give --stack-name NAME, or set CUSTOMERS_TABLE" in capsys.readouterr().err
    assert main(["erase", "--customer-id", CUSTOMER, "--stack-name", "no-such-stack"]) == 2
    assert "no-such-stack" in capsys.readouterr().err


def test_erasing_a_transferred_task_removes_its_chain_links(data: Data) -> None:
    from survey_core.dal.customer_data import erase_customer

    from tests.connect_events import contact_event

    # Given the customer's callback task was transferred: its second contact has a link item
    follow = data.deployment.load("FollowUpFunction")
    escalation = _item(data.deployment, "EscalationsTable", data.answered)
    assert escalation is not None
    created = datetime.fromisoformat(escalation["escalated_at"]["S"].replace("Z", "+00:00"))
    transfer = contact_event(
        "INITIATED",
        1,
        "contact-1-transfer",
        created=created,
        root="contact-1",
        previous="contact-1",
    )
    assert follow.follow_up_handler(transfer, lambda_context())["outcome"] == "recorded"
    link = f"{data.answered}#contact#contact-1-transfer"
    assert _item(data.deployment, "EscalationsTable", link) is not None
    # When the customer is erased
    erase_customer(CUSTOMER)
    # Then the link went with the escalation
    assert _item(data.deployment, "EscalationsTable", data.answered) is None
    assert _item(data.deployment, "EscalationsTable", link) is None


def test_the_profile_given_is_the_one_the_models_client_signs_with(
    deployment: Deployment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The models' client comes from boto3's default session (dal/models.shared_connection),
    # which this process may have made before, without the profile.
    import boto3
    from survey_core.dal.models import Customer

    credentials = tmp_path / "credentials"
    credentials.write_text("[operator]\naws_access_key_id = operator-key\n"
                           "aws_secret_access_key = operator-secret\n")  # fmt: skip
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)
    # a default session made already, with the environment's credentials
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    assert boto3.DEFAULT_SESSION.get_credentials() is not None
    monkeypatch.setenv("AWS_PROFILE", "default")  # put back as it was afterwards
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["export", "--customer-id", "nobody", "--profile", "operator", *STACK]) == 1
    assert "nothing is stored for this customer id" in capsys.readouterr().err
    client = Customer._get_connection().connection.client
    assert client._request_signer._credentials.access_key == "operator-key"
