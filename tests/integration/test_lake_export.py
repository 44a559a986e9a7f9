"""The lake export function against the template's own stack in moto: the stream records of a
survey sent, answered and escalated become rows in the lake bucket; a batch delivered again
changes nothing; an erasure takes the customer's comments and pseudonym out of the lake; a
failed write is reported from its first record on; without LakeExportComments no comment
leaves the tables."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import AwsCalls, lambda_context, post_form
from tests.integration.test_send import EMAIL, FIXED_CLOCK, PHONE, _rung, _start

pytestmark = pytest.mark.integration

COMMENT = "Paketti tuli rikki ZQX-LAKE-COMMENT"
CUSTOMER = "cust-0001"  # the example event's customer


def _answered(deployment: Deployment, score: int = 3, order: str = "A-1001") -> dict[str, Any]:
    """A post-purchase invitation sent by email and answered on the page with a comment."""
    invitation = _start(deployment, order=order)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    assert _rung(send, invitation, 0)["outcome"] == "sent"
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        form = f"score={score}&comment={COMMENT.replace(' ', '+')}"
        assert post_form(client, f"/s/{invitation['link_token']['S']}", form).status_code == 200
    return invitation


def _tables(deployment: Deployment) -> dict[str, str]:
    """The environment tools/customer_data.py reads the table names from."""
    return {
        "CUSTOMERS_TABLE": deployment.physical_id("CustomersTable"),
        "INVITATIONS_TABLE": deployment.physical_id("InvitationsTable"),
        "RESPONSES_TABLE": deployment.physical_id("ResponsesTable"),
        "ESCALATIONS_TABLE": deployment.physical_id("EscalationsTable"),
    }


def _export(deployment: Deployment, lake: Any = None, records: Any = None) -> dict[str, Any]:
    """The recorded stream records to the export function in one batch; its response."""
    lake = lake or deployment.load("LakeExportFunction")
    if records is None:
        records = list(deployment.lake_records)
        deployment.lake_records.clear()
    return lake.lambda_handler({"Records": records}, lambda_context())


def _lake(deployment: Deployment) -> dict[str, bytes]:
    """Every object of the lake bucket: key -> body (gzip)."""
    s3 = deployment.client("s3")
    bucket = deployment.outputs["LakeBucketName"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _rows(deployment: Deployment, table: str) -> list[dict[str, Any]]:
    from survey_core.lake.objects import decode

    return [
        row
        for key, body in sorted(_lake(deployment).items())
        if key.startswith(f"{table}/")
        for row in decode(body)
    ]


def test_a_survey_answered_reaches_the_lake_with_no_contact_details(
    deployment: Deployment,
) -> None:
    # Given a survey sent by email and answered 3 with a comment (the tables' stream records)
    invitation = _answered(deployment)
    # When the export function gets the batch
    response = _export(deployment)
    # Then nothing failed and every table has its rows
    assert response == {"batchItemFailures": []}
    [answer] = _rows(deployment, "responses")
    assert (answer["invitation_id"], answer["scores"], answer["revision"]) == (
        invitation["invitation_id"]["S"],
        {"nps": 3},
        1,
    )
    assert answer["segment_keys"][0] == "all" and answer["channel"] == "web"
    [comment] = _rows(deployment, "comments")
    assert comment["comment"] == COMMENT and comment["customer"] == answer["customer"]
    statuses = [row["status"] for row in _rows(deployment, "invitations")]
    assert statuses[0] == "pending" and "answered" in statuses
    messages = _rows(deployment, "messages")
    assert {(m["channel"], m["outcome"], m["delivered"]) for m in messages} >= {
        ("email", "sent", True)
    }
    # and no object holds the email, the phone, the customer id or the link token
    everything = json.dumps(
        [_rows(deployment, t) for t in ("responses", "comments", "invitations", "messages")]
    )
    for personal in (EMAIL, PHONE, CUSTOMER, invitation["link_token"]["S"]):
        assert personal not in everything


def test_a_batch_delivered_again_changes_no_object(deployment: Deployment) -> None:
    # Given an answered survey whose batch was exported
    _answered(deployment)
    records = list(deployment.lake_records)
    deployment.lake_records.clear()
    lake = deployment.load("LakeExportFunction")
    assert _export(deployment, lake, records) == {"batchItemFailures": []}
    before = _lake(deployment)
    # When the same batch comes again (Lambda's at-least-once delivery), twice
    _export(deployment, lake, records)
    _export(deployment, lake, json.loads(json.dumps(records)))
    # Then the lake holds exactly the same objects, byte for byte
    assert _lake(deployment) == before


def test_an_erasure_takes_the_customers_comments_and_pseudonym_out_of_the_lake(
    deployment: Deployment,
) -> None:
    from tools.customer_data import main as customer_data

    # Given an answered survey (with a comment) in the lake, and another customer's answer
    _answered(deployment)
    _start(deployment, customer={"id": "cust-other", "email": "other@example.com"}, order="B-1")
    assert _export(deployment) == {"batchItemFailures": []}
    assert any(COMMENT in json.dumps(r) for r in _rows(deployment, "comments"))
    # When the operator erases the customer and the deletes' stream records are exported
    erase = ["erase", "--customer-id", CUSTOMER, "--yes"]
    assert customer_data(erase, environ=_tables(deployment)) == 0
    removes = [r for r in deployment.lake_records if r["eventName"] == "REMOVE"]
    assert removes
    assert _export(deployment) == {"batchItemFailures": []}
    # Then the comment is gone, and the erased customer's rows carry no pseudonym any more
    assert COMMENT not in json.dumps(_rows(deployment, "comments"))
    answers = _rows(deployment, "responses")
    assert answers and all("customer" not in row for row in answers)
    invitations = _rows(deployment, "invitations")
    ours = [r for r in invitations if r["survey_id"] == "post-purchase" and "customer" not in r]
    others = [r for r in invitations if "customer" in r]
    assert ours and others  # the other customer's rows keep theirs
    # and the answer still counts (its scores stay: the counters keep them too)
    assert {row["scores"]["nps"] for row in answers} == {3}


def test_a_failed_write_is_reported_from_its_first_record_and_written_when_retried(
    deployment: Deployment,
) -> None:
    # Given a batch of a survey's records and the lake bucket refusing the first write
    _answered(deployment)
    records = list(deployment.lake_records)
    deployment.lake_records.clear()
    lake = deployment.load("LakeExportFunction")
    AwsCalls(lake.BUCKET._s3, "PutObject").fail_next("InternalError", status=500)
    # When the batch is delivered
    response = _export(deployment, lake, records)
    # Then Lambda is told to deliver it again from the first record whose rows are not written
    [failure] = response["batchItemFailures"]
    assert failure["itemIdentifier"] == records[0]["dynamodb"]["SequenceNumber"]
    # and the retry writes everything
    assert _export(deployment, lake, records) == {"batchItemFailures": []}
    assert _rows(deployment, "responses")


def test_without_the_parameter_no_comment_reaches_the_lake(deployment: Deployment) -> None:
    # Given the stack deployed with LakeExportComments false
    deployment.with_parameters(LakeExportComments="false")
    lake = deployment.load("LakeExportFunction", LAKE_EXPORT_COMMENTS="false")
    _answered(deployment)
    # When the batch is exported
    assert _export(deployment, lake) == {"batchItemFailures": []}
    # Then the answer is there, saying it has a comment, and the comment is not
    [answer] = _rows(deployment, "responses")
    assert answer["has_comment"] is True
    assert _rows(deployment, "comments") == []
    assert not any(COMMENT.encode() in gzip.decompress(body) for body in _lake(deployment).values())
