import pytest

from tests.conftest import Deployment, example_event
from tests.integration.helpers import lambda_context, sent_emails

pytestmark = pytest.mark.integration


def test_report_emails_the_weeks_nps(deployment: Deployment) -> None:
    from chalice.test import Client

    # Given one answered survey on Monday 16 Nov 2026 (Helsinki)
    trigger = deployment.load("TriggerFunction")
    trigger.lambda_handler(example_event("purchase-completed.json"), lambda_context())
    [invitation] = deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("InvitationsTable")
    )["Items"]
    clock = "2026-11-16T10:00:00+02:00|0|0"  # a clock frozen at that instant
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=clock)
    with Client(collect.app) as client:
        assert client.http.get(f"/s/{invitation['link_token']['S']}?score=10").status_code == 200
    # When the weekly schedule fires on Monday 23 Nov at 07:00 Helsinki time
    report = deployment.load("ReportFunction")
    result = report.lambda_handler(
        {"cadence": "weekly", "scheduledTime": "2026-11-23T05:00:00Z"}, lambda_context()
    )
    # Then the managers get last week's NPS
    assert result == {"period": "2026-11-16 – 2026-11-22", "rows": 1}
    [mail] = [m for m in sent_emails() if m["to"] == ["manager@example.com"]]
    assert "2026-11-16" in mail["subject"]
    assert "+100.0" in mail["body"]


def test_report_without_responses_says_so(deployment: Deployment) -> None:
    report = deployment.load("ReportFunction")
    result = report.lambda_handler({"scheduledTime": "2026-11-23T05:00:00Z"}, lambda_context())
    assert result["rows"] == 0
    [mail] = sent_emails()
    assert "no responses" in mail["body"].lower()
