"""The ad hoc tool against the template's bus in moto: what it puts, and what it refuses."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION, Deployment
from tests.integration.helpers import BusRecorder
from tools.request_surveys import main

pytestmark = pytest.mark.integration

HEADER = [
    "customer_id",
    "email",
    "phone",
    "language",
    "time_zone",
    "consent_email",
    "consent_sms",
    "business_area",
    "touchpoint",
]


class Requests:
    """Every Survey Requested event put on the bus."""

    def __init__(self, deployment: Deployment) -> None:
        self._recorder = BusRecorder(
            deployment, {"detail-type": ["Survey Requested"]}, name="survey-requests"
        )

    def details(self) -> list[dict[str, Any]]:
        return [event["detail"] for event in self._recorder.events()]


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
        "time_zone": "Europe/Helsinki",
        "consent_email": "",
        "consent_sms": "yes",
        "business_area": "webshop",
        "touchpoint": "",
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
    rows = [_row(n) for n in range(25)]
    rows[1] = _row(1, consent_email="FALSE", consent_sms="0", language="sv-FI", touchpoint="app")
    rows[2] = _row(2, email="", phone="", time_zone="", consent_sms="", business_area="")
    path = _csv(tmp_path / "list.csv", rows)
    assert _run(deployment, path) == 0
    details = sorted(requests.details(), key=lambda d: d["requestId"])
    assert len(details) == 25
    assert [d["requestId"] for d in details] == [f"spring:cust-{n:03d}" for n in range(25)]
    assert {d["surveyId"] for d in details} == {"relationship"}
    assert {d["version"] for d in details} == {"1"}
    first, second, third = details[:3]
    assert first["customer"] == {
        "id": "cust-000",
        "email": "asiakas0@example.com",
        "phone": "+358401234567",
        "language": "fi",
        "timeZone": "Europe/Helsinki",
        "consent": {"sms": True},
    }
    assert first["segment"] == {"businessArea": "webshop"}
    assert "notBefore" not in first
    assert second["customer"]["consent"] == {"email": False, "sms": False}
    assert second["customer"]["language"] == "sv-FI"
    assert second["segment"] == {"businessArea": "webshop", "touchpoint": "app"}
    assert third["customer"] == {"id": "cust-002", "language": "fi"}  # empty cells left out
    assert "segment" not in third


def test_bad_rows_are_named_by_line_and_not_sent(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    rows = [
        _row(1),  # line 2
        _row(2, customer_id=""),  # line 3: no id
        _row(3, consent_email="maybe"),  # line 4
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
    assert "line 4: consent_email: must be true/false" in errors
    assert "line 6: detail.customer.language: must be one of" in errors
    assert "line 3: detail.customer.id: violates minLength 1" in errors
    assert "line 7: customer_id: repeats line 5" in errors
    assert "line 8: detail.customer.email: violates maxLength 254" in errors
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
    err = capsys.readouterr().err
    assert "unknown survey 'nope'; the catalogue has: post-purchase" in err
    assert "relationship" in err
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


def test_other_usage_errors_exit_2(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(1)])
    base = [str(path), "--survey", "relationship", "--campaign", "c", "--region", REGION]
    assert main(base) == 2  # no --event-bus, no --stack
    assert "give --event-bus NAME or --stack STACK_NAME" in capsys.readouterr().err
    assert _run(deployment, tmp_path / "missing.csv") == 2
    assert "cannot be read" in capsys.readouterr().err
    assert _run(deployment, path, "--not-before", "tomorrow") == 2
    assert "detail.notBefore" in capsys.readouterr().err
    assert main([*base, "--campaign", "has space", "--event-bus", "x"]) == 2
    assert main([*base, "--stack", "no-such-stack"]) == 2
    assert "cannot read stack no-such-stack" in capsys.readouterr().err
    no_id = _csv(tmp_path / "no-id.csv", [["a@example.com"]], header=["email"])
    assert _run(deployment, no_id) == 2
    assert requests.details() == []


def test_not_before_and_line_numbers_of_multiline_records(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    path = tmp_path / "list.csv"
    path.write_text(
        "\ufeffcustomer_id,touchpoint,language\n"  # a BOM, as spreadsheet programs write
        'cust-001,"two\nlines",fi\n'  # lines 2-3
        "\n"  # line 4: blank, skipped
        "cust-002,app,xx\n",  # line 5
        encoding="utf-8",
    )
    when = "2027-05-01T09:00:00+03:00"
    assert _run(deployment, path, "--not-before", when) == 1
    assert "line 5: detail.customer.language" in capsys.readouterr().err
    [detail] = requests.details()
    assert detail["customer"]["id"] == "cust-001"
    assert detail["notBefore"] == when
    assert detail["segment"] == {"touchpoint": "two\nlines"}


def test_a_long_customer_id_gets_a_hashed_request_id(
    deployment: Deployment, tmp_path: Path
) -> None:
    requests = Requests(deployment)
    customer_id = "c" * 125
    path = _csv(tmp_path / "list.csv", [_row(1, customer_id=customer_id)])
    assert _run(deployment, path) == 0
    [detail] = requests.details()
    expected = hashlib.sha256(customer_id.encode()).hexdigest()[:32]
    assert detail["requestId"] == f"spring:{expected}"
    assert detail["customer"]["id"] == customer_id


def test_events_the_bus_refuses_are_reported_by_line(
    deployment: Deployment,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from survey_core.dal import gateways

    requests = Requests(deployment)
    real_put_events = None

    def refuse_second_batch(self: Any, events: Any, on_progress: Any = None) -> None:
        # Put the first ten for real, then fail entries 10 and 12 as PutEvents would.
        nonlocal real_put_events
        real_put_events = events
        original(self, events[:10], on_progress)
        raise gateways.EventsNotPut([10, 12], {"ThrottlingException"})

    original = gateways.EventBus.put_many
    monkeypatch.setattr(gateways.EventBus, "put_many", refuse_second_batch)
    path = _csv(tmp_path / "list.csv", [_row(n) for n in range(15)])
    assert _run(deployment, path) == 1
    errors = capsys.readouterr().err
    assert "line 12: not sent" in errors and "line 14: not sent" in errors
    assert errors.count("not sent\n") == 2
    assert real_put_events is not None and len(real_put_events) == 15
    assert len(requests.details()) == 10


def test_a_bus_that_does_not_exist_sends_nothing_and_says_so(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = Requests(deployment)
    path = _csv(tmp_path / "list.csv", [_row(n) for n in range(3)])
    args = ["--survey", "relationship", "--campaign", "c", "--event-bus", "nope"]
    assert main([str(path), *args, "--region", REGION]) == 1
    errors = capsys.readouterr().err
    assert "sending stopped (ResourceNotFoundException)" in errors
    assert [line for line in errors.splitlines() if line.endswith(": not sent")] == [
        "line 2: not sent",
        "line 3: not sent",
        "line 4: not sent",
    ]
    assert requests.details() == []
