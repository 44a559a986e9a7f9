"""The results view's pages (functions/results): the same templates and helpers as the survey
pages and emails (rendering.py), apart from them because only the results view needs them: no
other function loads them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from .localizer import Localizer
from .names import DisplayNames
from .rendering import _render, _render_message

if TYPE_CHECKING:
    from ..report.model import ReportData


class Choice(Struct, frozen=True):
    value: str
    label: str
    selected: bool


class OverviewFilter(Struct, frozen=True):
    """The overview's filter form (a GET: it changes nothing): the period and, for a viewer
    who sees everything, the scope; each choice with its label in the page's language."""

    action_url: str
    periods: Sequence[Choice]
    first_day: str  # the range's days (yyyy-mm-dd), shown in the date fields
    last_day: str
    scopes: Sequence[Choice]  # empty: the viewer's scope is fixed


class NavLink(Struct, frozen=True):
    page: str  # the page's id: aria-current on its own link
    url: str  # with the filter shown (period, scope), so a filter holds on every page
    label: str  # message id


class ResultsChrome(Struct, frozen=True):
    """What every signed-in page of the results view carries: the company, links to its pages,
    the export of what is shown (if any), and sign-out with the session's CSRF token."""

    company: str
    links: Sequence[NavLink]
    sign_out_url: str
    csrf: str
    export_url: str = ""
    export_label: str = "results_export"  # the export link's message id


def _chrome(chrome: ResultsChrome, page: str) -> dict[str, Any]:
    return {
        "company": chrome.company,
        "links": chrome.links,
        "export_url": chrome.export_url,
        "export_label": chrome.export_label,
        "sign_out_url": chrome.sign_out_url,
        "csrf": chrome.csrf,
        "page": page,
    }


def render_results_overview(
    *,
    report: ReportData,
    chart_png: bytes | None,
    chart_alt: str,
    form: OverviewFilter,
    chrome: ResultsChrome,
    page: str = "overview",
) -> str:
    """The results view's overview page: the filter form, then the report's own content for
    the viewer's scope and the period (report_body.html), the chart inline as a data: URI.
    An agent's "my feedback" (page "mine") is the same page for their own contacts."""
    chart_src = (
        f"data:image/png;base64,{base64.b64encode(chart_png).decode('ascii')}" if chart_png else ""
    )
    words = Localizer(report.language, report.names)
    return _render(
        "results_overview.html",
        report.language,
        report.names,
        report=report,
        chart_alt=chart_alt if chart_png else "",
        chart_src=chart_src,
        attachment=False,
        form=form,
        title=f"{report.title} - {words.period(report.period_label)}",
        **_chrome(chrome, page),
    )


class CommentsFilter(Struct, frozen=True):
    """The comments page's filter form (a GET): the overview's period and scope, a survey, a
    score group and a text to search for."""

    base: OverviewFilter
    surveys: Sequence[Choice]
    groups: Sequence[Choice]
    search: str


def render_results_comments(
    *,
    language: str,
    names: DisplayNames,
    period_label: str,
    comments: Sequence[Any],  # logic.results.FoundComment
    shown_all: bool,
    read: int,
    form: CommentsFilter,
    chrome: ResultsChrome,
    task_url: str,
) -> str:
    """The results view's comments: newest first, each with its day, survey, score and segment
    values, the text escaped like every comment, and a link to its callback task if the
    answer made one (task_url/<invitation id>)."""
    words = Localizer(language, names)
    return _render(
        "results_comments.html",
        language,
        names,
        comments=comments,
        shown_all=shown_all,
        read=read,
        form=form,
        task_url=task_url,
        title=f"{words.text('results_nav_comments')} - {words.period(period_label)}",
        **_chrome(chrome, "comments"),
    )


class SegmentsFilter(Struct, frozen=True):
    """The segments page's filter form (a GET): the overview's, and the attribute shown."""

    base: OverviewFilter
    attributes: Sequence[Choice]


class SegmentLine(Struct, frozen=True):
    row: Any  # report.model.SegmentRow
    url: str  # every page filtered to this segment; "" when the viewer's scope is fixed


class SegmentTableView(Struct, frozen=True):
    survey_id: str
    metric: str
    attribute: str
    lines: Sequence[SegmentLine]


def render_results_segments(
    *,
    language: str,
    names: DisplayNames,
    scope_label: str,
    period_label: str,
    tables: Sequence[SegmentTableView],
    form: SegmentsFilter,
    chrome: ResultsChrome,
) -> str:
    words = Localizer(language, names)
    return _render(
        "results_segments.html",
        language,
        names,
        scope_label=scope_label,
        period_label=period_label,
        tables=tables,
        form=form,
        title=f"{words.text('report_segments')} - {words.period(period_label)}",
        **_chrome(chrome, "segments"),
    )


class QueueFilter(Struct, frozen=True):
    """The queue's filter form (a GET): the scope (for a viewer who sees everything) and a
    survey; the queue is what is open now, so no period."""

    base: OverviewFilter
    surveys: Sequence[Choice]


class QueueLine(Struct, frozen=True):
    row: Any  # logic.results.QueueRow
    url: str  # the task's page
    due: str  # the deadline in the page's language and time zone; "" without an SLA
    age: str  # hours since the task was made; "" before it was


def queue_lines(rows: Sequence[Any], language: str, zone: tzinfo, task_url: str) -> list[QueueLine]:
    """The queue's rows with their times in words (rows: logic.results.QueueRow)."""
    words = Localizer(language)
    return [
        QueueLine(
            row,
            f"{task_url}/{row.task.invitation_id}",
            words.moment(row.task.due_at, zone) if row.task.due_at else "",
            words.hours(row.age_hours) if row.age_hours is not None else "",
        )
        for row in rows
    ]


def render_results_queue(
    *,
    language: str,
    names: DisplayNames,
    lines: Sequence[QueueLine],
    complete: bool,
    form: QueueFilter,
    chrome: ResultsChrome,
) -> str:
    return _render(
        "results_queue.html",
        language,
        names,
        lines=lines,
        overdue=sum(1 for line in lines if line.row.overdue),
        complete=complete,
        form=form,
        title=Localizer(language, names).text("results_nav_follow_up"),
        **_chrome(chrome, "follow-up"),
    )


class TaskView(Struct, frozen=True):
    task: Any  # logic.results.CallbackTask
    comment: str  # the answer's comment ("" without one)
    overdue: bool
    can_record: bool
    outcomes: Sequence[Choice]  # the outcome form's choices, the recorded one selected
    action_url: str  # where the outcome form posts
    max_note: int
    saved: bool  # the page follows a recorded outcome


def render_results_task(
    *, language: str, names: DisplayNames, view: TaskView, zone: tzinfo, chrome: ResultsChrome
) -> str:
    words = Localizer(language, names)
    task = view.task
    return _render(
        "results_task.html",
        language,
        names,
        task=task,
        comment=view.comment,
        made=words.moment(task.created_at, zone) if task.created_at else "",
        due=words.moment(task.due_at, zone) if task.due_at else "",
        recorded=words.moment(task.recorded_at, zone) if task.recorded_at else "",
        overdue=view.overdue,
        can_record=view.can_record,
        outcomes=view.outcomes,
        action_url=view.action_url,
        max_note=view.max_note,
        saved=view.saved,
        title=f"{words.text('results_task')} - {words.survey(task.survey_id)}",
        **_chrome(chrome, "follow-up"),
    )


def render_results_sign_in(*, language: str, company: str, action_url: str, error: bool) -> str:
    """The local stack's sign-in page (the cloud's is Cognito's managed login)."""
    return _render(
        "results_sign_in.html", language, company=company, action_url=action_url, error=error
    )


def render_results_message(*, language: str, title_key: str, body_key: str, company: str) -> str:
    """A results view page with a title and one paragraph (signed out, not allowed, ...)."""
    return _render_message(language, title_key, body_key, company=company)
