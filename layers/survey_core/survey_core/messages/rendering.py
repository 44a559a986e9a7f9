"""Emails, SMS texts and survey pages from Jinja2 templates (autoescaped HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from msgspec import Struct

from ..rules.scoring import scale_of
from .brand import Brand
from .i18n import resolve_language, text
from .localizer import Localizer
from .names import DisplayNames
from .safe_text import clean_text, one_line
from .sms import SmsSize, sms_size

if TYPE_CHECKING:
    # A type only: the send and collect functions render mails and pages, never a report, so
    # they do not load the report's model and its statistics.
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


class RenderedEmail(Struct, frozen=True):
    subject: str
    html: str
    text: str
    # Shown inside the HTML (cid:<content_id>), e.g. the report's chart.
    inline_images: tuple[InlineImage, ...] = ()
    attachments: tuple[Attachment, ...] = ()


class InlineImage(Struct, frozen=True):
    content_id: str  # referenced from the HTML as src="cid:<content_id>"
    data: bytes
    subtype: str = "png"


class Attachment(Struct, frozen=True):
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


class RenderedSms(Struct, frozen=True):
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


class PageQuestion(Struct, frozen=True):
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
