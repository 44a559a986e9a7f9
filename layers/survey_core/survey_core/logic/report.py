"""The manager reports: every hour, the groups of reports.yaml whose send time has come get
their report for the period just ended, once: an HTML email with the trend chart, its text
part and the .xlsx, from pre-aggregated counters and bounded reads only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from msgspec import Struct

from ..report.config import DueReport, Period, ReportGroup, due_reports

if TYPE_CHECKING:
    from ..catalogue import Catalogue
    from ..dal.gateways import Mailer
    from ..domain.repositories import Repositories
    from ..messages.rendering import RenderedEmail
    from ..report.model import ReportData


class SentReport(Struct, frozen=True):
    group: str
    period: str
    empty: bool
    outcome: str  # sent | already-sent | failed (its claim released: the run's retry sends it)
    error: str | None = None  # failed: the error's type (its message may name a recipient)


# Most hourly runs send no report (a group's send time comes once a day or week): what makes
# one (the reads, the numbers, the chart, the workbook, the email's templates) is loaded by
# the two functions below, in the runs that send one, not at every cold start.


def report_for(due: DueReport, catalogue: Catalogue, repos: Repositories) -> ReportData:
    from ..messages.i18n import text
    from ..report.content import build_report_data
    from .reads import counter_rows, overdue_tasks, recent_comments

    group = due.group
    return build_report_data(
        group,
        due.period,
        catalogue,
        partial(counter_rows, counters=repos.counters),
        recent_comments(group, due.period, catalogue, repos.responses),
        title=text(group.language, "report_title"),
        overdue=overdue_tasks(
            group, due.period, catalogue, due.send_moment, escalations=repos.escalations
        ),
    )


def email_for(data: ReportData, period: Period) -> RenderedEmail:
    from ..messages.rendering import render_report_email
    from ..report.chart import trend_alt_text, trend_chart_png, trend_has_values
    from ..report.workbook import report_workbook

    chart = trend_chart_png(data) if trend_has_values(data) else None
    return render_report_email(
        report=data,
        chart_png=chart,
        chart_alt=trend_alt_text(data),
        workbook=report_workbook(data),
        workbook_name=f"report-{period.first_day.isoformat()}-{period.last_day.isoformat()}.xlsx",
    )


def send_due_reports(
    scheduled: datetime,
    catalogue: Catalogue,
    groups: Sequence[ReportGroup],
    mailer: Mailer,
    repos: Repositories,
) -> list[SentReport]:
    """Send every report due at `scheduled` (the hourly schedule's time), each exactly once:
    a claim in the report log comes first, and is released when the email could not go. One
    group's failure (a recipient SES refuses, a read that failed) does not hold back the
    others: it is reported as failed, and the caller fails the run so that it is retried."""
    sent = []
    for due in due_reports(tuple(groups), scheduled):
        period = due.period
        claim = (due.group.name, period.first_day.isoformat(), period.label)
        if not repos.counters.claim_report(*claim):
            sent.append(SentReport(due.group.name, period.label, False, "already-sent"))
            continue
        try:
            data = report_for(due, catalogue, repos)
            email = email_for(data, period)
            mailer.send(to=list(due.group.recipients), email=email)
        except Exception as error:  # any failure: release the claim, go on, report it
            repos.counters.release_report(*claim)
            failed = SentReport(due.group.name, period.label, False, "failed", type(error).__name__)
            sent.append(failed)
            continue
        sent.append(SentReport(due.group.name, period.label, data.empty, "sent"))
    return sent
