"""The scheduled manager reports against moto: who gets what, when, exactly once, and the
email's parts (HTML with the chart by Content-ID, plain text, the .xlsx) agree."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from chalice.test import Client
from openpyxl import load_workbook

from tests.conftest import Deployment, example_event
from tests.integration.helpers import emf_metrics, lambda_context, post_form, sent_emails

pytestmark = pytest.mark.integration

MONDAY_0700_HELSINKI = "2026-11-23T05:00:00Z"  # the hourly schedule's tick
COMMENT = '<script>alert("x")</script> =HYPERLINK("http://evil") Toimitus myöhästyi'


def _answered(
    deployment: Deployment, score: int = 3, comment: str = COMMENT, customers: int = 1
) -> None:
    """Purchases of `customers` customers, each answered on Monday 16 Nov 2026 (Helsinki) with
    a comment."""
    trigger = deployment.load("TriggerFunction")
    for number in range(1, customers + 1):
        event = example_event("purchase-completed.json")
        event["id"] = event["id"][:-4] + f"{number:04d}"
        event["detail"]["orderId"] = f"A-{1000 + number}"
        event["detail"]["customer"]["id"] = f"cust-{number:04d}"
        event["detail"]["customer"]["email"] = f"customer-{number}@example.com"
        event["detail"]["customer"]["phone"] = f"+3584012345{number:02d}"
        trigger.lambda_handler(event, lambda_context())
    invitations = deployment.client("dynamodb").scan(
        TableName=deployment.physical_id("InvitationsTable")
    )["Items"]
    assert len(invitations) == customers
    collect = deployment.load("CollectFunction", LOCAL_CLOCK="2026-11-16T10:00:00+02:00|0|0")
    with Client(collect.app) as client:
        form = f"score={score}&comment={comment.replace('&', '%26').replace('=', '%3D')}"
        for invitation in invitations:
            link = f"/s/{invitation['link_token']['S']}"
            assert post_form(client, link, form).status_code == 200


def _fire(deployment: Deployment, when: str = MONDAY_0700_HELSINKI) -> dict[str, Any]:
    report = deployment.load("ReportFunction")
    result: dict[str, Any] = report.lambda_handler({"scheduledTime": when}, lambda_context())
    return result


def _mail_to(address: str) -> dict[str, Any]:
    [mail] = [m for m in sent_emails() if m["to"] == [address]]
    return mail


def test_monday_morning_sends_each_due_group_its_report_once(deployment: Deployment) -> None:
    # Given an answer last week, When the hourly schedule ticks at Monday 07:00 Helsinki, twice
    _answered(deployment)
    first = _fire(deployment)
    again = _fire(deployment)
    # Then the weekly groups and the daily one got a report, once each
    assert {(r["group"], r["outcome"]) for r in first["reports"]} == {
        ("Leadership", "sent"),
        ("Webshop", "sent"),
        ("Customer service team", "sent"),
    }
    assert {r["outcome"] for r in again["reports"]} == {"already-sent"}
    assert sorted(m["to"][0] for m in sent_emails()) == [
        "asiakaspalvelu@example.com",
        "johto@example.com",
        "verkkokauppa@example.com",
    ]


def test_the_report_email_has_the_numbers_the_chart_and_the_same_numbers_in_the_xlsx(
    deployment: Deployment,
) -> None:
    # Given six detractors' answers (NPS -100, 95 % interval -100 .. -25.9)
    _answered(deployment, score=3, customers=6)
    _fire(deployment)
    mail = _mail_to("johto@example.com")  # Leadership: everything, weekly, in Finnish
    # The subject names the group and the week, as Finnish writes it
    assert mail["subject"] == "Asiakaspalauteraportti: Leadership, 16.–22.11.2026"
    # The HTML: NPS -100 of six answers with its interval, the comment escaped, the chart
    # inline with alt text, the survey by its name
    html = mail["body"]
    assert "-100,0</strong> (-100,0 – -25,9)" in html and "n = 6" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'src="cid:trend"' in html and 'alt="NPS, Oston jälkeen' in html
    # The plain-text part says the same, after the takeaway
    assert "Oston jälkeen NPS: -100,0 (-100,0 – -25,9) (n = 6)" in mail["text"]
    assert "\nNPS -100, " in mail["text"]
    parts = {p["contentType"]: p for p in mail["parts"]}
    assert parts["image/png"]["contentId"] == "trend"
    xlsx = parts["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert xlsx["filename"] == "report-2026-11-16-2026-11-22.xlsx"
    # The workbook read back: the same NPS and n, and the comment as literal text
    book = load_workbook(io.BytesIO(base64.b64decode(xlsx["data"])))
    summary = [
        [c for c in row if c is not None] for row in book["Yhteenveto"].iter_rows(values_only=True)
    ]
    assert any(-100.0 in row and 6 in row and -25.9 in [round(c, 1) for c in row
               if isinstance(c, float)] for row in summary), summary  # fmt: skip
    comments = [row for row in book["Kommentit"].iter_rows(values_only=True) if COMMENT in row]
    assert comments, list(book["Kommentit"].iter_rows(values_only=True))


def test_one_answer_is_too_few_answers_not_a_score_and_draws_no_chart(
    deployment: Deployment,
) -> None:
    # Given one detractor's answer
    _answered(deployment, score=3)
    # When the reports go out
    _fire(deployment)
    mail = _mail_to("johto@example.com")  # Leadership, in Finnish
    # Then no "-100.0 ± 0.0 (n = 1)": the words and n, in the email, its text and the workbook
    assert "liian vähän vastauksia" in mail["body"] and "n = 1" in mail["body"]
    assert "Oston jälkeen NPS: liian vähän vastauksia (n = 1)" in mail["text"]
    assert "-100,0" not in mail["body"] and "-100,0" not in mail["text"]
    # and the trend has no value to draw: no chart
    assert not [p for p in mail["parts"] if p["contentType"] == "image/png"]
    parts = {p["contentType"]: p for p in mail["parts"]}
    xlsx = parts["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    book = load_workbook(io.BytesIO(base64.b64decode(xlsx["data"])))
    summary = [
        [c for c in row if c is not None] for row in book["Yhteenveto"].iter_rows(values_only=True)
    ]
    assert any("NPS" in row and 1 in row and "liian vähän vastauksia" in row for row in summary), (
        summary
    )
    assert not any(-100.0 in row for row in summary), summary


def test_a_scope_without_answers_gets_the_no_responses_variant(deployment: Deployment) -> None:
    _answered(deployment)
    _fire(deployment)
    service = _mail_to("asiakaspalvelu@example.com")  # touchpoint "service", in English
    assert "No responses this period." in service["text"]
    assert "No responses this period." in service["body"]
    assert not [p for p in service["parts"] if p["contentType"] == "image/png"]
    assert "Toimitus" not in service["text"]  # the webshop customer's comment is out of scope
    webshop = _mail_to("verkkokauppa@example.com")  # daily: Sunday 22 Nov, nothing answered
    assert "Ei vastauksia tällä jaksolla." in webshop["text"]


def test_callbacks_open_past_their_deadline_are_reported_as_missed(
    deployment: Deployment,
) -> None:
    from tests.integration.test_follow_up import _follow, _task, event

    # Given two callback tasks made on Monday 16 Nov (SLA 48 h): an agent took one after 2 h
    # and closed it the next day; nobody has touched the other
    _task(deployment)
    _task(deployment, "0cc175b9c0f1b6a831c399e269772661", "contact-6")
    follow = _follow(deployment)
    follow.follow_up_handler(event("CONNECTED_TO_AGENT", 2), lambda_context())
    follow.follow_up_handler(event("DISCONNECTED", 26, agent_at=2), lambda_context())
    # When the weekly reports go out on Monday 23 Nov, five days after the second one was due
    _fire(deployment)
    mail = _mail_to("johto@example.com")  # Leadership: everything, in Finnish
    # Then the open task past its deadline is counted as missed: within the SLA 1 of 2, 50 %
    assert "Avoinna 1 (yli tavoiteajan 1)" in mail["text"]
    assert "Tavoiteajassa: 50,0\u00a0% (1 / 2)" in mail["text"]
    assert "Keskimääräinen aika käsittelijälle: 2,0 h (n = 1)" in mail["text"]
    assert "yli tavoiteajan 1)" in mail["body"] and "(1 / 2)" in mail["body"]
    # and the workbook has the same figures, as numbers
    parts = {p["contentType"]: p for p in mail["parts"]}
    xlsx = parts["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    book = load_workbook(io.BytesIO(base64.b64decode(xlsx["data"])))
    summary = list(book["Yhteenveto"].iter_rows(values_only=True))  # the workbook is Finnish too
    [head] = [n for n, row in enumerate(summary) if row[0] == "Tehtäviä luotu"]
    assert summary[head + 1][:12] == (2, 1, 1, 1, 0.5, 1, 0, 0, 1, 1, 1, 2.0)


def test_a_group_whose_email_fails_holds_back_no_other_and_fails_the_run_for_its_retry(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given SES refusing the webshop team's address (e.g. a recipient it will not take)
    _answered(deployment)
    report = deployment.load("ReportFunction")
    original = report.MAILER.send
    refused = "verkkokauppa@example.com"

    def send(*, to: list[str], **kwargs: Any) -> str:
        if refused in to:
            raise RuntimeError(f"MessageRejected: {refused} is not allowed")
        result: str = original(to=to, **kwargs)
        return result

    monkeypatch.setattr(report.MAILER, "send", send)
    # When the hourly schedule ticks, Then the run fails naming the group, never the address
    with pytest.raises(Exception) as raised:  # the function's own copy of ReportsNotSent
        report.lambda_handler({"scheduledTime": MONDAY_0700_HELSINKI}, lambda_context())
    assert type(raised.value).__name__ == "ReportsNotSent"
    assert raised.value.groups == ["Webshop"] and refused not in str(raised.value)
    # and the other groups got theirs; the logs say which failed and how, without the address
    assert sorted(m["to"][0] for m in sent_emails()) == [
        "asiakaspalvelu@example.com",
        "johto@example.com",
    ]
    failed = [r for r in caplog.records if getattr(r, "outcome", None) == "failed"]
    assert [(r.group, r.error) for r in failed] == [("Webshop", "RuntimeError")]  # type: ignore[attr-defined]
    assert refused not in caplog.text
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert (totals["ReportsSent"], totals["ReportsFailed"]) == (2, 1)
    # When the run is retried once SES takes the address, Then only the missing report goes
    monkeypatch.setattr(report.MAILER, "send", original)
    retried = report.lambda_handler({"scheduledTime": MONDAY_0700_HELSINKI}, lambda_context())
    assert {(r["group"], r["outcome"]) for r in retried["reports"]} == {
        ("Leadership", "already-sent"),
        ("Webshop", "sent"),
        ("Customer service team", "already-sent"),
    }
    assert len(sent_emails()) == 3
