"""The deploy guide's smoke test, run against the local stack: one test event in, the report of
what happened out, and the test customer erased afterwards with the command it prints."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.process import running_stack
from infra.local.scenario import LocalStackClient
from tools import customer_data, smoke_test

pytestmark = pytest.mark.e2e

EMAIL = "operator.smoke@example.com"
PHONE = "+358401112233"


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    # Monday 09:00 in Helsinki: no quiet hours, so the first message goes at once.
    start = "2026-11-16T09:00:00+02:00"
    with running_stack(time_scale=3600, start_time=start, log_name="e2e-smoke.log") as info:
        yield info


@pytest.fixture(autouse=True)
def any_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local stack takes any credentials; the commands' boto3 sessions need some.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")


def aws(info: dict[str, Any]) -> list[str]:
    return ["--region", info["region"], "--endpoint-url", info["endpoint_url"]]


def test_smoke_test_reports_the_first_message_and_never_prints_the_address(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running stack, When the smoke test runs with the operator's own address
    code = smoke_test.main(
        [
            "--stack",
            stack["stack_name"],
            "--email",
            EMAIL,
            "--phone",
            PHONE,
            "--timeout",
            "60",
            "--poll",
            "0.2",
            *aws(stack),
        ]
    )
    out, err = capsys.readouterr()
    # Then it says, step by step, that the event became an invitation whose email went out
    assert code == 0, out + err
    assert "2. trigger: invitation made" in out
    assert re.search(r"message +rung 0: email sent at ", out), out
    assert "smoke test: ok" in out
    assert "rejected events queue: 0 waiting" in out
    # and the survey really reached the outbox, while the output holds no contact details
    emails = LocalStackClient(stack).control("outbox")["emails"]
    assert any(EMAIL in str(m.get("to")) for m in emails)
    assert EMAIL not in out and PHONE not in out and "example.com" not in out
    # and the clean-up command it prints erases the test customer
    [erase_line] = [line for line in out.splitlines() if "customer_data erase" in line]
    customer_id = erase_line.rsplit("--customer-id ", 1)[1].strip()
    assert customer_id.startswith("smoke-test-")
    assert (
        customer_data.main(
            [
                "erase",
                "--yes",
                "--stack-name",
                stack["stack_name"],
                "--customer-id",
                customer_id,
                *aws(stack),
            ]
        )
        == 0
    )
    assert "nothing to erase" not in capsys.readouterr().out


def test_an_unknown_survey_or_a_bad_number_is_a_usage_error(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--stack", stack["stack_name"], "--email", EMAIL, *aws(stack)]
    assert smoke_test.main([*base, "--survey", "no-such-survey"]) == 2
    assert "unknown survey" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        smoke_test.main([*base, "--phone", "0401234567"])
    assert exit_info.value.code == 2
    assert smoke_test.main(["--stack", "no-such-stack", "--email", EMAIL, *aws(stack)]) == 2
    assert "cannot read stack" in capsys.readouterr().err
