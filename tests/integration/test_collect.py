import pytest
from chalice.test import Client

from tests.conftest import Deployment, example_event
from tests.integration.helpers import BusRecorder, lambda_context, post_form

pytestmark = pytest.mark.integration


def _invitation(deployment: Deployment) -> dict:
    table = deployment.physical_id("InvitationsTable")
    [item] = deployment.client("dynamodb").scan(TableName=table)["Items"]
    return item


def _started_invitation(deployment: Deployment) -> dict:
    trigger = deployment.load("TriggerFunction")
    trigger.lambda_handler(example_event("purchase-completed.json"), lambda_context())
    return _invitation(deployment)


def test_answer_is_stored_counted_once_and_published(deployment: Deployment) -> None:
    # Given an invitation and the survey app
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    recorder = BusRecorder(deployment)
    with Client(collect.app) as client:
        # When the customer taps 9 in the email, then changes it to 3 with a comment
        page = client.http.get(f"/s/{token}?score=9")
        assert page.status_code == 200
        assert b'value="9" checked' in page.body or b"checked" in page.body
        thanks = post_form(
            client, f"/s/{token}", "score=3&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E+late"
        )
        assert thanks.status_code == 200
        assert thanks.headers["Content-Security-Policy"].startswith("default-src 'none'")
    # Then one response holds the latest score and the literal comment
    dynamodb = deployment.client("dynamodb")
    response = dynamodb.get_item(
        TableName=deployment.physical_id("ResponsesTable"),
        Key={"invitation_id": invitation["invitation_id"]},
    )["Item"]
    assert response["scores"]["M"]["nps"]["N"] == "3"
    assert response["comment"]["S"] == "<script>alert(1)</script> late"
    assert response["revision"]["N"] == "2"
    # and the counters moved one count from 9 to 3, without counting the response twice
    counters = dynamodb.scan(TableName=deployment.physical_id("AggregatesTable"))["Items"]
    overall = next(c for c in counters if c["bucket"]["S"].endswith("#all"))
    assert overall["n"]["N"] == "1"
    assert overall["s3"]["N"] == "1"
    assert overall["s9"]["N"] == "0"
    segments = {c["bucket"]["S"].split("#", 1)[1] for c in counters}
    assert "businessArea=webshop" in segments
    published = [e for e in recorder.events() if e["detail-type"] == "Survey Response Received"]
    assert [e["detail"]["scores"]["nps"] for e in published] == [9, 3]
    assert "comment" not in published[-1]["detail"]


@pytest.mark.parametrize("path", ["/s/" + "x" * 22, "/s/short", "/s/%3Cscript%3E"])
def test_unknown_links_get_a_friendly_404(deployment: Deployment, path: str) -> None:
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        page = client.http.get(path)
    assert page.status_code == 404
    assert b"Traceback" not in page.body
    assert b"<html" in page.body


def test_out_of_range_score_is_refused_and_nothing_stored(deployment: Deployment) -> None:
    invitation = _started_invitation(deployment)
    token = invitation["link_token"]["S"]
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        page = post_form(client, f"/s/{token}", "score=11")
    assert page.status_code == 400
    responses = deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("ResponsesTable")
    )["Items"]
    assert responses == []
