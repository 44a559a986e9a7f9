"""The manager reports: every hour, the groups of reports.yaml whose send time has come get
their report for the period just ended, once: an HTML email with the trend chart, its text
part and the .xlsx, from pre-aggregated counters and bounded reads only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from ..catalogue import Catalogue, Survey
from ..dal.gateways import Mailer
from ..domain.counters import SCORE_NAMES, Counters
from ..domain.escalations import Escalation, Escalations, OpenTask, moment
from ..domain.repositories import Repositories
from ..domain.responses import Comment, Responses
from ..messages.i18n import text
from ..messages.rendering import RenderedEmail, render_report_email
from ..report.chart import trend_alt_text, trend_chart_png, trend_has_values
from ..report.config import DueReport, Period, ReportGroup, due_reports
from ..report.content import CounterRow, build_report_data
from ..report.model import CommentRow, ReportData
from ..report.workbook import report_workbook
from ..rules.escalation import escalation_reasons, keyword_match
from .counting import counter_view, split_scope
from .results import CallbackTask, FoundComment, ReadComments, RecordedOutcome

COMMENTS_SHOWN = 5
COMMENTS_READ_PER_DAY = 25  # a scoped report's bounded read of comments per day


@dataclass(frozen=True)
class SentReport:
    group: str
    period: str
    empty: bool
    outcome: str  # sent | already-sent | failed (its claim released: the run's retry sends it)
    error: str | None = None  # failed: the error's type (its message may name a recipient)


def counter_rows(
    series: str, first: date, last: date, *, counters: Counters
) -> Iterable[CounterRow]:
    """The counters of a series (or of a scope of it: "...@businessArea=webshop") per day and
    segment key, summed from the day's combinations: one Query for the whole span."""
    base, attribute, value = split_scope(series)
    records = (
        (counter.day, counter.segment, counter.counts)
        for counter in counters.read(base, first.isoformat(), last.isoformat())
    )
    for day, key, counts in counter_view(records, attribute, value):
        histogram = {int(name[1:]): n for name, n in counts.items() if name in SCORE_NAMES and n}
        others = {name: n for name, n in counts.items() if name not in SCORE_NAMES and n}
        yield CounterRow(date.fromisoformat(day), key, histogram, others)


def _in_scope(group: ReportGroup, segment: dict[str, object]) -> bool:
    scope = group.scope
    return scope.attribute is None or segment.get(scope.attribute) == scope.value


def recent_comments(
    group: ReportGroup,
    period: Period,
    catalogue: Catalogue,
    responses: Responses,
    shown: int = COMMENTS_SHOWN,
) -> list[CommentRow]:
    """The newest comments of the period in the group's scope, at most `shown`. Days are read
    newest first and reading stops once enough are found; a whole-scope report reads only as
    many as it shows, a scoped one at most COMMENTS_READ_PER_DAY a day. Either way the
    items read do not grow with the number of responses."""
    found: list[tuple[str, CommentRow]] = []
    for back in range(period.days):
        day = (period.last_day - timedelta(days=back)).isoformat()
        for survey in catalogue.surveys:
            missing = shown - len(found)
            limit = COMMENTS_READ_PER_DAY if group.scope.attribute else max(missing, 1)
            for comment in responses.recent_comments(survey.id, day, limit):
                if _in_scope(group, comment.segment):
                    found.append((comment.answered_at, _comment_row(survey, comment)))
        if len(found) >= shown:
            break  # older days hold older comments
    found.sort(key=lambda item: item[0], reverse=True)
    return [row for _, row in found[:shown]]


def comment_reader(catalogue: Catalogue, responses: Responses) -> ReadComments:
    """The results view's comments port: a survey's commented responses of one day, newest
    first, at most `limit` read (the responses table's by_comment_day index)."""

    def read(survey_id: str, day: str, limit: int) -> Iterator[FoundComment]:
        survey = catalogue.find(survey_id)
        if survey is None:
            return
        rule = survey.escalation
        for comment in responses.recent_comments(survey_id, day, limit):
            matched = keyword_match(rule, comment.comment)
            escalated = bool(escalation_reasons(rule, comment.scores, matched))
            row = _comment_row(survey, comment)
            yield FoundComment(
                comment.answered_at, row, comment.segment, comment.invitation_id, escalated
            )

    return read


def _task(escalation: Escalation) -> CallbackTask:
    return CallbackTask(
        invitation_id=escalation.invitation_id,
        survey_id=escalation.survey_id,
        metric=escalation.metric,
        score=escalation.score,
        segment=escalation.segment,
        created_at=moment(escalation.escalated_at),
        due_at=escalation.due_at,
        reached_at=moment(escalation.reached_at),
        outcome=escalation.outcome or "open",
        sla=escalation.sla,
        recorded_outcome=escalation.recorded_outcome,
        note=escalation.recorded_note,
        recorded_at=moment(escalation.recorded_at),
    )


def _open_task(task: OpenTask) -> CallbackTask:
    return CallbackTask(
        invitation_id=task.invitation_id,
        survey_id=task.survey_id,
        metric=task.metric,
        score=task.score,
        segment=task.segment,
        created_at=moment(task.escalated_at),
        due_at=task.due_at,
        reached_at=moment(task.reached_at),
        outcome="open",
        sla="open",
    )


def open_task_reader(
    survey_id: str, limit: int, *, escalations: Escalations
) -> Iterator[CallbackTask]:
    """The results view's queue port: a survey's open tasks, earliest deadline first."""
    return (_open_task(task) for task in escalations.open_tasks(survey_id, limit))


def get_task(invitation_id: str, *, escalations: Escalations) -> CallbackTask | None:
    """One task (a chain contact's link item is none)."""
    escalation = escalations.get(invitation_id)
    return _task(escalation) if escalation is not None else None


def save_outcome(recorded: RecordedOutcome, *, escalations: Escalations) -> bool:
    return escalations.record_outcome(
        recorded.invitation_id,
        recorded.outcome,
        recorded.note,
        recorded.recorded_by,
        recorded.recorded_at,
    )


def _comment_row(survey: Survey, comment: Comment) -> CommentRow:
    scores = comment.scores
    metric = next((m for m in survey.metrics if m in scores), next(iter(scores)))
    return CommentRow(comment.answered_at[:10], survey.id, metric, scores[metric], comment.comment)


def overdue_tasks(
    group: ReportGroup,
    period: Period,
    catalogue: Catalogue,
    as_of: datetime,
    *,
    escalations: Escalations,
) -> int:
    """The period's callback tasks in the group's scope still open after their SLA deadline at
    `as_of`: one Query of by_open_due per survey, reading only the open tasks whose deadline
    has passed since the period began (so bounded by the overdue open tasks, not by all)."""
    since = datetime.combine(period.first_day - timedelta(days=1), time.min, tzinfo=UTC)
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    found = 0
    for survey in catalogue.surveys:
        for task in escalations.overdue_tasks(survey.id, since, as_of):
            if first <= (task.counted_day or "") <= last and _in_scope(group, task.segment):
                found += 1
    return found


def report_for(due: DueReport, catalogue: Catalogue, repos: Repositories) -> ReportData:
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
