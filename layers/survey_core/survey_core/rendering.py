"""Emails, SMS texts and survey pages from Jinja2 templates (autoescaped HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .i18n import resolve_language, text
from .scoring import scale_of

_ENV = Environment(
    loader=PackageLoader("survey_core", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def _render(name: str, language: str, **context: Any) -> str:
    language = resolve_language(language)
    translate = partial(text, language)
    return _ENV.get_template(name).render(language=language, t=translate, **context)


def _scale(metric: str) -> dict[str, Any]:
    low, high = scale_of(metric)
    return {"scores": list(range(low, high + 1)), "low": low, "high": high}


def render_invitation_email(
    *, language: str, metric: str, question: str, company: str, survey_url: str, reminder: bool
) -> RenderedEmail:
    context = {
        "metric": metric,
        "question": question,
        "company": company,
        "survey_url": survey_url,
        "reminder": reminder,
        **_scale(metric),
    }
    subject = text(
        resolve_language(language), "subject_reminder" if reminder else "subject", company=company
    )
    return RenderedEmail(
        subject=subject,
        html=_render("invitation_email.html", language, **context),
        text=_render("invitation_email.txt", language, **context),
    )


def render_sms(*, language: str, company: str, survey_url: str, reminder: bool) -> str:
    low, high = scale_of("nps")
    key = "sms_reminder" if reminder else "sms"
    return text(
        resolve_language(language), key, company=company, low=low, high=high, url=survey_url
    )


def render_survey_page(
    *,
    language: str,
    metric: str,
    question: str,
    company: str,
    action_url: str,
    selected_score: int | None,
    comment: str,
    error: str | None,
    stored: bool,
) -> str:
    return _render(
        "survey_page.html",
        language,
        metric=metric,
        question=question,
        company=company,
        action_url=action_url,
        selected_score=selected_score,
        comment=comment,
        error=error,
        stored=stored,
        **_scale(metric),
    )


def render_thank_you_page(*, language: str, score: int, metric: str) -> str:
    return _render("message_page.html", language, title_key="thanks_title", body_key="thanks_body")


def render_error_page(*, language: str, status: int) -> str:
    status = status if status in (400, 404, 410) else 500
    return _render(
        "message_page.html",
        language,
        title_key=f"error_{status}_title",
        body_key=f"error_{status}_body",
    )


def render_report_email(*, language: str, report: dict[str, Any]) -> RenderedEmail:
    return RenderedEmail(
        subject=f"{report['title']}: {report['period_label']}",
        html=_render("report_email.html", language, report=report),
        text=_render("report_email.txt", language, report=report),
    )
