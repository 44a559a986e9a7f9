"""The hourly manager reports (logic/report.send_due_reports) on the in-memory repositories and
the SES fake: no moto. Each due group's report goes once (a claim in the report log first), a
failed send releases its claim and holds back no other group (the run's retry sends it), an
empty period says so, and each group reads its own scope of the counters. What the email and
workbook show is tested in tests/unit/test_report_content.py and test_report_outputs.py; the
function against the template's tables in tests/integration/test_report.py (the groups are the
shipped reports.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from survey_core.catalogue import load_catalogue
from survey_core.domain.counters import Counts
from survey_core.domain.repositories import Repositories
from survey_core.logic.report import SentReport, send_due_reports
from survey_core.report.config import load_groups

from tests.gateways import FakeMailer
from tests.repositories import MemoryCounters, memory_repositories

pytestmark = pytest.mark.unit

CATALOGUE = load_catalogue()
GROUPS = load_groups()
MONDAY_0700_HELSINKI = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # the hourly schedule's tick
LEADERSHIP = ("Leadership", "2026-11-16 – 2026-11-22")  # weekly, everything, Finnish
WEBSHOP = ("Webshop", "2026-11-22")  # daily, businessArea=webshop
SERVICE = ("Customer service team", "2026-11-16 – 2026-11-22")  # weekly, touchpoint=service
RECIPIENTS = {
    "Leadership": ["johto@example.com"],
    "Webshop": ["verkkokauppa@example.com"],
    "Customer service team": ["asiakaspalvelu@example.com"],
}
NO_ANSWERS_FI = "Ei vastauksia tällä jaksolla."


def send(
    repos: Repositories, mailer: FakeMailer, when: datetime = MONDAY_0700_HELSINKI
) -> list[SentReport]:
    return send_due_reports(when, CATALOGUE, GROUPS, mailer, repos)


def answered(repos: Repositories, day: str, score: int, n: int, **segment: str) -> None:
    """n first answers of `score` counted on `day` in one combination of segment values, as
    storing them counts them (domain/responses.revise): the score and the response."""
    repos.counters.add(Counts("post-purchase#nps", day, segment, {"n": n, f"s{score}": n}))
    repos.counters.add(Counts("post-purchase#responses", day, segment, {"n": n}))


def outcomes(sent: list[SentReport]) -> dict[tuple[str, str], tuple[str, bool]]:
    return {(r.group, r.period): (r.outcome, r.empty) for r in sent}


def mail_to(mailer: FakeMailer, group: str) -> str:
    """The text part of the one email the group's recipients got."""
    [email] = [e for e in mailer.sent if e.to == RECIPIENTS[group]]
    return email.email.text


def claims(repos: Repositories) -> set[tuple[str, str, str]]:
    counters = repos.counters
    assert isinstance(counters, MemoryCounters)
    return set(counters.reports)


def test_each_due_group_gets_its_report_once() -> None:
    repos, mailer = memory_repositories(), FakeMailer()
    answered(repos, "2026-11-22", score=3, n=6, businessArea="webshop")

    first = send(repos, mailer)
    again = send(repos, mailer)  # the same tick run again (a retried invocation)

    assert outcomes(first) == {
        LEADERSHIP: ("sent", False),
        WEBSHOP: ("sent", False),
        SERVICE: ("sent", True),
    }
    assert {r.outcome for r in again} == {"already-sent"} and len(again) == 3
    assert sorted(e.to[0] for e in mailer.sent) == sorted(a[0] for a in RECIPIENTS.values())
    assert claims(repos) == {
        ("Leadership", "2026-11-16", LEADERSHIP[1]),
        ("Webshop", "2026-11-22", WEBSHOP[1]),
        ("Customer service team", "2026-11-16", SERVICE[1]),
    }


def test_a_tick_when_no_group_is_due_sends_nothing() -> None:
    repos, mailer = memory_repositories(), FakeMailer()
    answered(repos, "2026-11-22", score=3, n=6, businessArea="webshop")

    for hour in (4, 6, 12):  # 06:00, 08:00 and 14:00 in Helsinki
        assert send(repos, mailer, MONDAY_0700_HELSINKI.replace(hour=hour)) == []

    assert mailer.sent == [] and claims(repos) == set()


def test_a_failed_send_holds_back_no_other_group_and_the_retry_sends_only_it() -> None:
    # Given SES failing on the second report of the run
    repos, mailer = memory_repositories(), FakeMailer()
    calls: list[int] = []

    def fail_the_second() -> None:
        calls.append(1)
        if len(calls) == 2:
            mailer.fail = ConnectionError("SES is down")

    mailer.on_send = fail_the_second

    # When the run sends its reports
    first = send(repos, mailer)

    # Then the second is reported failed with its error's type, the others went
    assert [(r.group, r.outcome, r.error) for r in first] == [
        ("Leadership", "sent", None),
        ("Webshop", "failed", "ConnectionError"),
        ("Customer service team", "sent", None),
    ]
    assert sorted(e.to[0] for e in mailer.sent) == sorted(
        RECIPIENTS[group][0] for group in ("Leadership", "Customer service team")
    )
    # and only the reports that went keep their claims
    assert claims(repos) == {
        ("Leadership", "2026-11-16", LEADERSHIP[1]),
        ("Customer service team", "2026-11-16", SERVICE[1]),
    }

    # When the run is retried with the same scheduled time (the handler failed it)
    mailer.on_send = None
    retried = send(repos, mailer)

    # Then the report that did not go is sent, the ones that went are not sent again
    assert [(r.group, r.outcome) for r in retried] == [
        ("Leadership", "already-sent"),
        ("Webshop", "sent"),
        ("Customer service team", "already-sent"),
    ]
    assert sorted(e.to[0] for e in mailer.sent) == sorted(a[0] for a in RECIPIENTS.values())


def test_a_report_that_could_not_be_built_releases_its_claim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repos, mailer = memory_repositories(), FakeMailer()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(repos.counters, "read", broken)
    assert {(r.outcome, r.error) for r in send(repos, mailer)} == {("failed", "RuntimeError")}
    assert claims(repos) == set() and mailer.sent == []

    monkeypatch.undo()
    assert {r.outcome for r in send(repos, mailer)} == {"sent"}


def test_an_empty_period_is_sent_saying_there_were_no_answers() -> None:
    repos, mailer = memory_repositories(), FakeMailer()
    # An answer outside every period sent now (the week before) does not count.
    answered(repos, "2026-11-15", score=9, n=4, businessArea="webshop")

    sent = send(repos, mailer)

    assert {r.empty for r in sent} == {True} and {r.outcome for r in sent} == {"sent"}
    assert NO_ANSWERS_FI in mail_to(mailer, "Leadership")
    assert NO_ANSWERS_FI in mail_to(mailer, "Webshop")
    assert "No responses this period." in mail_to(mailer, "Customer service team")
    for email in mailer.sent:  # no chart without values, the workbook always
        assert email.email.inline_images == ()
        [workbook] = email.email.attachments
        assert workbook.filename.endswith(".xlsx")


def test_each_group_reads_only_its_own_scope_and_period() -> None:
    repos, mailer = memory_repositories(), FakeMailer()
    # Six detractors in the webshop on Sunday; four promoters of the service touchpoint on
    # Tuesday, outside the daily webshop report's day
    answered(repos, "2026-11-22", score=3, n=6, businessArea="webshop", touchpoint="checkout")
    answered(repos, "2026-11-17", score=10, n=4, businessArea="stores", touchpoint="service")

    sent = outcomes(send(repos, mailer))

    assert sent == {
        LEADERSHIP: ("sent", False),
        WEBSHOP: ("sent", False),
        SERVICE: ("sent", False),
    }
    # The whole scope sees ten answers, the webshop six, the service touchpoint four.
    assert "(n = 10)" in mail_to(mailer, "Leadership")
    webshop = mail_to(mailer, "Webshop")
    assert "(n = 6)" in webshop and "(n = 10)" not in webshop and "(n = 4)" not in webshop
    service = mail_to(mailer, "Customer service team")
    assert "(n = 4)" in service and "(n = 6)" not in service and "(n = 10)" not in service


def test_the_email_is_built_from_the_periods_counters() -> None:
    repos, mailer = memory_repositories(), FakeMailer()
    answered(repos, "2026-11-16", score=3, n=6, businessArea="webshop")

    send(repos, mailer)

    [email] = [e.email for e in mailer.sent if e.to == RECIPIENTS["Leadership"]]
    assert email.subject == "Asiakaspalauteraportti: Leadership, 16.–22.11.2026"
    assert "Oston jälkeen NPS: -100,0 (-100,0 – -25,9) (n = 6)" in email.text
    assert [a.filename for a in email.attachments] == ["report-2026-11-16-2026-11-22.xlsx"]
    assert [i.content_id for i in email.inline_images] == ["trend"]
