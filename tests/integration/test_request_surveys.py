"""The ad hoc tool against the template's bus in moto: what it puts, and what it refuses."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION, Deployment
from tools.request_surveys import main

pytestmark = pytest.mark.integration

HEADER = ["customer_id", "email", "phone", "language", "consent_sms", "business_area"]


class Requests:
    """An SQS queue that receives every Survey Requested event on the bus."""

    def __init__(self, deployment: Deployment) -> None:
        self._sqs = deployment.client("sqs")
        self.url = self._sqs.create_queue(QueueName="survey-requests")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = deployment.client("events")
        bus = deployment.outputs["EventBusName"]
        events.put_rule(
            Name="record-requests",
            EventBusName=bus,
            EventPattern=json.dumps({"detail-type": ["Survey Requested"]}),
        )
        events.put_targets(
            Rule="record-requests", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}]
        )

    def details(self) -> list[dict[str, Any]]:
        found = []
        while batch := self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            found.extend(json.loads(m["Body"])["detail"] for m in batch)
            for message in batch:
                self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _row(n: int, **changes: str) -> list[str]:
    values = {
        "customer_id": f"cust-{n:03d}",
        "email": f"asiakas{n}@example.com",
        "phone": "+358401234567",
        "language": "fi",
        "consent_sms": "yes",
        "business_area": "webshop",
        **changes,
    }
    return [values[column] for column in HEADER]


def _run(deployment: Deployment, path: Path, *extra: str) -> int:
    bus = deployment.outputs["EventBusName"]
    return main(
        [str(path), "--survey", "relationship", "--campaign", "spring", *extra]
        + ([] if "--stack" in extra else ["--event-bus", bus])
        + ["--region", REGION]
    )


def test_every_valid_row_becomes_one_request(deployment: Deployment, tmp_path: Path) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(n) for n in range(25)])
    assert _run(deployment, path) == 0
    details = sorted(requests.details(), key=lambda d: d["requestId"])
    assert len(details) == 25
    first = details[0]
    assert first["requestId"] == "spring:cust-000"
    assert first["surveyId"] == "relationship"
    assert first["customer"] == {
        "id": "cust-000",
        "email": "asiakas0@example.com",
        "phone": "+358401234567",
        "language": "fi",
        "consent": {"sms": True},
    }
    assert first["segment"] == {"businessArea": "webshop"}


def test_bad_rows_are_named_by_line_and_not_sent(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    rows = [
        _row(1),  # line 2
        _row(2, customer_id=""),  # line 3: no id
        _row(3, consent_sms="maybe"),  # line 4
        _row(4),  # line 5
        _row(5, language="de"),  # line 6
        _row(4),  # line 7: repeats line 5
        _row(6, email="x" * 300 + "@example.com"),  # line 8: too long for the contract
    ]
    path = _csv(tmp_path / "list.csv", rows)
    assert _run(deployment, path) == 1
    errors = capsys.readouterr().err
    reported = sorted(
        int(line.split()[1].rstrip(":")) for line in errors.splitlines() if line.startswith("line ")
    )
    assert reported == [3, 4, 6, 7, 8]
    assert "consent_sms: must be true or false" in errors
    assert "customer_id: repeats an earlier row" in errors
    assert "2 rows valid, 5 rows with errors (not sent)" in errors
    assert "@example.com" not in errors  # no personal data in the output
    assert sorted(d["customer"]["id"] for d in requests.details()) == ["cust-001", "cust-004"]


def test_a_dry_run_sends_nothing(deployment: Deployment, tmp_path: Path) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(n) for n in range(3)])
    assert _run(deployment, path, "--dry-run") == 0
    assert requests.details() == []


def test_usage_errors_send_nothing(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(1)])
    bus = deployment.outputs["EventBusName"]
    unknown_survey = [str(path), "--survey", "nope", "--campaign", "c", "--event-bus", bus]
    assert main(unknown_survey) == 2
    assert "unknown survey 'nope'; the catalogue has: post-purchase" in capsys.readouterr().err
    odd = _csv(tmp_path / "odd.csv", [[*_row(1), "x"]], header=[*HEADER, "shoe_size"])
    assert _run(deployment, odd) == 2
    assert "unknown columns shoe_size" in capsys.readouterr().err
    assert requests.details() == []


def test_the_bus_is_found_from_the_stack(deployment: Deployment, tmp_path: Path) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(1)])
    assert _run(deployment, path, "--stack", "feedback") == 0
    assert len(requests.details()) == 1


def test_running_a_campaign_again_requests_the_same_ids(
    deployment: Deployment, tmp_path: Path
) -> None:
    # The trigger drops a repeated requestId as a duplicate: the ids must be stable.
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(1), _row(2)])
    assert _run(deployment, path) == 0
    first = sorted(d["requestId"] for d in requests.details())
    assert _run(deployment, path) == 0
    assert sorted(d["requestId"] for d in requests.details()) == first
