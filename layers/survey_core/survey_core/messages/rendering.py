"""Emails, SMS texts and survey pages from Jinja2 templates (autoescaped HTML)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..rules.scoring import scale_of
from .brand import Brand
from .i18n import resolve_language, text
from .localizer import Localizer
from .names import DisplayNames
from .safe_text import clean_text, one_line
from .sms import SmsSize, sms_size

if TYPE_CHECKING:
    # A type only: the send and collect functions render mails and pages, never a report, and
    # the report's model (its dataclasses and stats) cost them about 12 ms of a cold start.
    from ..report.model import ReportData


def _clean(value: Any) -> Any:
    """Every value a template prints, before it is escaped: no control or bidi-override
    characters reach a page or an email, whatever was stored (safe_text.py). Markup is the
    templates' own (already safe) output and stays as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_text(value)
    return value


_ENV = Environment(
    loader=PackageLoader("survey_core.messages", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_clean,
)
# A value that must stay on its line in a plain-text email (a comment, a segment value).
_ENV.filters["one_line"] = one_line


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    # Shown inside the HTML (cid:<content_id>), e.g. the report's chart.
    inline_images: tuple[InlineImage, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class InlineImage:
    content_id: str  # referenced from the HTML as src="cid:<content_id>"
    data: bytes
    subtype: str = "png"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str  # e.g. application/vnd.openxmlformats-officedocument.spreadsheetml.sheet


def _render(name: str, language: str, names: DisplayNames | None = None, **context: Any) -> str:
    """A template with its language's texts (t), and numbers, dates and names (l)."""
    words = Localizer(language, names or DisplayNames())
    # Every page shows the company's colour and logo (page.html); emails ignore them.
    context.setdefault("brand", Brand())
    context.setdefault("company", "")
    return _ENV.get_template(name).render(language=words.language, t=words.text, l=words, **context)


# The texts at the ends of each metric's scale, without the number: "{score} = {label}"
# (scale_end) puts the number in front, once.
_SCALE_ENDS = {
    "nps": ("low_nps", "high_nps"),
    "csat": ("low_csat", "high_csat"),
    "ces": ("low_ces", "high_ces"),
}


def _scale(language: str, metric: str) -> dict[str, Any]:
    """The scores of a metric's scale and the texts at its ends, e.g. low_label "en lainkaan
    todennäköisesti" and low_end "0 = en lainkaan todennäköisesti"."""
    language = resolve_language(language)
    low, high = scale_of(metric)
    low_id, high_id = _SCALE_ENDS[metric]
    low_label, high_label = text(language, low_id), text(language, high_id)
    return {
        "scores": list(range(low, high + 1)),
        "low": low,
        "high": high,
        "low_label": low_label,
        "high_label": high_label,
        "low_end": text(language, "scale_end", score=low, label=low_label),
        "high_end": text(language, "scale_end", score=high, label=high_label),
    }


# The most score buttons in one row of an email: 0-10 goes in two rows (0-5, 6-10), so a row
# of buttons big enough to tap fits a 320 px screen.
EMAIL_ROW_MAX = 6


def _score_rows(scores: Sequence[int]) -> list[list[int]]:
    """A scale's scores in rows of at most EMAIL_ROW_MAX, the first row the fuller one."""
    rows = -(-len(scores) // EMAIL_ROW_MAX)
    size = -(-len(scores) // rows)
    return [list(scores[i : i + size]) for i in range(0, len(scores), size)]


# What a ladder message says: the first message a customer gets is the invitation (also when
# it goes out as an SMS fallback after a bounce); later ones remind; the last rung says so.
MESSAGE_KINDS = ("invitation", "reminder", "last-reminder")
_SUBJECTS = {
    "invitation": "subject",
    "reminder": "subject_reminder",
    "last-reminder": "subject_last_reminder",
}
_INTROS = {
    "invitation": "intro",
    "reminder": "intro_reminder",
    "last-reminder": "intro_last_reminder",
}


def render_invitation_email(
    *,
    language: str,
    metric: str,
    question: str,
    company: str,
    survey_url: str,
    unsubscribe_url: str,
    kind: str,
    brand: Brand | None = None,
) -> RenderedEmail:
    """The survey email, HTML and plain text: one-tap score links, an unsubscribe link.

    The subject names the company only: never the customer, an order or anything personal."""
    subject = text(resolve_language(language), _SUBJECTS[kind], company=company)
    scale = _scale(language, metric)
    rows = _score_rows(scale["scores"])
    context = {
        "metric": metric,
        "question": question,
        "company": company,
        "survey_url": survey_url,
        "unsubscribe_url": unsubscribe_url,
        "intro_key": _INTROS[kind],
        "title": subject,
        "score_rows": rows,
        "row_cells": max(len(row) for row in rows),
        "cell_width": round(100 / max(len(row) for row in rows), 2),
        "colour": (brand or Brand()).colour,
        **scale,
    }
    return RenderedEmail(
        subject=subject,
        html=_render("invitation_email.html", language, **context),
        text=_render("invitation_email.txt", language, **context),
    )


@dataclass(frozen=True)
class RenderedSms:
    text: str
    size: SmsSize


def render_sms(
    *, language: str, company: str, metric: str, survey_url: str, kind: str
) -> RenderedSms:
    """The survey SMS: the scale, the link and how to opt out, in one GSM-7 segment if the
    text allows. Shorter wordings are tried in turn (down to the company, the scale and the
    link); when none fits, the shortest is sent, sized in segments (UCS-2 when the company
    name has characters outside GSM-7)."""
    language = resolve_language(language)
    low, high = scale_of(metric)
    lead = "sms" if kind == "invitation" else "sms_reminder"
    stop = text(language, "sms_stop")
    candidates = [
        f"{text(language, key, company=company, low=low, high=high)} {survey_url}\n{stop}"
        for key in (lead, f"{lead}_short", "sms_minimal")
    ]
    for candidate in candidates:
        size = sms_size(candidate)
        if size.single_gsm7:
            return RenderedSms(candidate, size)
    return RenderedSms(candidates[-1], sms_size(candidates[-1]))


@dataclass(frozen=True)
class PageQuestion:
    """One question on the survey page: its metric's scale, the form field it posts as, and
    the score shown as chosen (a stored answer, or the score a one-tap link chose)."""

    metric: str
    text: str
    field: str
    selected: int | None
    required: bool


def render_survey_page(
    *,
    language: str,
    questions: Sequence[PageQuestion],
    company: str,
    action_url: str,
    ask_comment: bool,
    comment: str,
    error: str | None,
    link_choice: int | None = None,
    answered: bool = False,
    brand: Brand | None = None,
) -> str:
    """The survey form. link_choice: the score a one-tap link chose, not recorded yet; the page
    says so right under the first question, with a send button there (the link's GET stores
    nothing, so the customer's one more tap is what records it). answered: the customer has
    answered already; the page says so and shows the answer, which they may change while the
    survey is open."""
    return _render(
        "survey_page.html",
        language,
        questions=[{"q": question, **_scale(language, question.metric)} for question in questions],
        company=company,
        action_url=action_url,
        ask_comment=ask_comment,
        comment=comment,
        error=error,
        link_choice=link_choice,
        answered=answered,
        brand=brand or Brand(),
    )


def _render_message(
    language: str,
    title_key: str,
    body_key: str,
    *,
    company: str = "",
    brand: Brand | None = None,
    **params: Any,
) -> str:
    """A page with a title and one paragraph, by their message ids ({company} in either is the
    company's name)."""
    return _render(
        "message_page.html",
        language,
        title_key=title_key,
        body_key=body_key,
        params={"company": company, **params},
        company=company,
        brand=brand or Brand(),
    )


def render_thank_you_page(*, language: str, company: str = "", brand: Brand | None = None) -> str:
    return _render_message(language, "thanks_title", "thanks_body", company=company, brand=brand)


def render_closed_page(
    *, language: str, company: str, answered: bool, brand: Brand | None = None
) -> str:
    """A survey that no longer takes answers (expired or closed), in the customer's language:
    an answered one says the answer was received and can no longer be changed; another says
    there is nothing more to do."""
    if answered:
        keys = ("closed_answered_title", "closed_answered_body")
    else:
        keys = ("error_410_title", "error_410_body")
    return _render_message(language, *keys, company=company, brand=brand)


# The error pages' title and text by HTTP status.
_ERROR_PAGES = {
    400: ("error_400_title", "error_400_body"),
    404: ("error_404_title", "error_404_body"),
    410: ("error_410_title", "error_410_body"),
    500: ("error_500_title", "error_500_body"),
}


def render_error_page(
    *, language: str, status: int, company: str = "", brand: Brand | None = None
) -> str:
    """404 and 410 have pages of their own; any other 4xx (a bad answer, or a request the
    router refused: 405, 415) says to check the answer, and anything else went wrong here.
    Each names the company and what to do next."""
    if status not in (404, 410):
        status = 400 if 400 <= status < 500 else 500
    title, body = _ERROR_PAGES[status]
    if status == 404 and company:  # a link of ours that is not (or no longer) valid
        body = "error_404_link_body"
    return _render_message(language, title, body, company=company, brand=brand)


def render_unsubscribe_page(
    *,
    language: str,
    company: str,
    action_url: str,
    channels: Sequence[str],
    checked: Sequence[str],
    error: str | None,
    brand: Brand | None = None,
) -> str:
    return _render(
        "unsubscribe_page.html",
        language,
        company=company,
        action_url=action_url,
        options=[(channel, _UNSUBSCRIBE_OPTIONS[channel]) for channel in channels],
        checked=list(checked),
        error=error,
        brand=brand or Brand(),
    )


# The unsubscribe page's choice per channel.
_UNSUBSCRIBE_OPTIONS = {"email": "unsubscribe_email_option", "sms": "unsubscribe_sms_option"}


def render_unsubscribed_page(*, language: str, company: str, brand: Brand | None = None) -> str:
    return _render_message(
        language, "unsubscribed_title", "unsubscribed_body", company=company, brand=brand
    )


def render_report_email(
    *,
    report: ReportData,
    chart_png: bytes | None,
    chart_alt: str,
    workbook: bytes,
    workbook_name: str,
) -> RenderedEmail:
    """The manager report: HTML (table layout, inline CSS, the chart by Content-ID with its alt
    text), the plain-text part, and the .xlsx attached, in the report's language (texts,
    numbers, dates, and the catalogue's names for surveys and segments). Comments are escaped
    in the HTML."""
    images = (InlineImage("trend", chart_png),) if chart_png else ()
    alt = chart_alt if chart_png else ""
    words = Localizer(report.language, report.names)
    subject = words.text(
        "report_subject",
        title=report.title,
        group=report.group,
        period=words.period(report.period_label),
    )
    context = {
        "report": report,
        "chart_alt": alt,
        "chart_src": "cid:trend",
        "attachment": True,
        "title": subject,
    }
    return RenderedEmail(
        subject=subject,
        html=_render("report_email.html", report.language, report.names, **context),
        text=_render("report_email.txt", report.language, report.names, **context),
        inline_images=images,
        attachments=(Attachment(workbook_name, workbook, XLSX_TYPE),),
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class OverviewFilter:
    """The overview's filter form (a GET: it changes nothing): the period and, for a viewer
    who sees everything, the scope; each choice with its label in the page's language."""

    action_url: str
    periods: Sequence[Choice]
    first_day: str  # the range's days (yyyy-mm-dd), shown in the date fields
    last_day: str
    scopes: Sequence[Choice]  # empty: the viewer's scope is fixed


@dataclass(frozen=True)
class NavLink:
    page: str  # the page's id: aria-current on its own link
    url: str  # with the filter shown (period, scope), so a filter holds on every page
    label: str  # message id


@dataclass(frozen=True)
class ResultsChrome:
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


@dataclass(frozen=True)
class CommentsFilter:
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


@dataclass(frozen=True)
class SegmentsFilter:
    """The segments page's filter form (a GET): the overview's, and the attribute shown."""

    base: OverviewFilter
    attributes: Sequence[Choice]


@dataclass(frozen=True)
class SegmentLine:
    row: Any  # report.model.SegmentRow
    url: str  # every page filtered to this segment; "" when the viewer's scope is fixed


@dataclass(frozen=True)
class SegmentTableView:
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


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filter form (a GET): the scope (for a viewer who sees everything) and a
    survey; the queue is what is open now, so no period."""

    base: OverviewFilter
    surveys: Sequence[Choice]


@dataclass(frozen=True)
class QueueLine:
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


@dataclass(frozen=True)
class TaskView:
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
