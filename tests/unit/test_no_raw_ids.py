"""Every output rendered in Finnish, Swedish and English from sample data, and read as a person
would see it: no survey id, segment attribute id ("businessArea"), named segment value
("webshop") or message id ("report_title") in the visible text, and no decimal point in a
Finnish or Swedish number.

Outputs: the survey page (with an error and a one-tap choice), the thank-you, error,
unsubscribe and unsubscribed pages, every survey's invitation emails of every kind (subject,
HTML, text), the SMS texts and the SMS help reply, and the manager report (subject, HTML, text,
the chart's drawn words and its alt text, the workbook's cells, sheet names and chart titles),
whole-scope and scoped to one business area, with answers and without."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from msgspec.structs import replace
from openpyxl import load_workbook
from PIL import ImageDraw
from survey_core.catalogue import LANGUAGES, load_catalogue
from survey_core.logic.report import email_for
from survey_core.messages import catalogues
from survey_core.messages.i18n import text
from survey_core.messages.names import ATTRIBUTE_NAMES
from survey_core.messages.rendering import (
    MESSAGE_KINDS,
    PageQuestion,
    render_error_page,
    render_invitation_email,
    render_sms,
    render_survey_page,
    render_thank_you_page,
    render_unsubscribe_page,
    render_unsubscribed_page,
)
from survey_core.report.chart import trend_chart_png
from survey_core.report.config import Period, load_groups
from survey_core.report.content import CounterRow, build_report_data
from survey_core.report.workbook import report_workbook
from survey_core.rules.scoring import scale_of

from tools.preview_report import SAMPLE_COMMENTS, WEEK, sample_report, sample_rows

pytestmark = pytest.mark.unit

CATALOGUE = load_catalogue()
URL = "https://a1b2c3d4e5.execute-api.eu-north-1.amazonaws.com/prod/s/AbCdEfGhIjKlMnOpQrStUv"
UNSUBSCRIBE = URL.replace("/s/", "/u/")
# A number written with a decimal point: one dot between digits, not part of a date
# ("16.11.2026", "16.–22.11.") or of a longer run of dots.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
URLS = re.compile(r"https?://\S+")


class _Visible(HTMLParser):
    """What a browser shows of an HTML page or email: text outside <style> and <script>,
    the <title>, and the attributes read out or shown (alt, title, aria-label, placeholder)."""

    SHOWN_ATTRIBUTES = frozenset({"alt", "title", "aria-label", "placeholder"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_html(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def visible_workbook(xlsx: bytes) -> str:
    """Every text cell, sheet name, the title property, and the charts' titles and series."""
    book = load_workbook(io.BytesIO(xlsx))
    parts = [book.properties.title or "", *book.sheetnames]
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            parts += [cell for cell in row if isinstance(cell, str)]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/charts/"):
                xml = archive.read(name).decode("utf-8")
                parts += re.findall(r"<a:t>([^<]*)</a:t>", xml)
                parts += re.findall(r"<c:tx><c:v>([^<]*)</c:v></c:tx>", xml)
    return "\n".join(parts)


def drawn_words(monkeypatch: pytest.MonkeyPatch, png: Any) -> str:
    """The words the chart draws on its image (recorded as Pillow draws them)."""
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def record(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(str(text))
        return original(self, xy, text, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(ImageDraw.ImageDraw, "text", record)
        png()
    assert drawn, "the chart drew no text"
    return "\n".join(drawn)


# ---------------------------------------------------------------- what must not show


def _every_text(language: str) -> str:
    """What may legitimately show in a language: its messages and the catalogue's names and
    questions. An id that is also a word there ("relationship" in English) is not checked."""
    names = CATALOGUE.names
    parts = [str(entry.text) for entry in catalogues.entries(language).values()]
    parts += [names.survey(language, survey.id) for survey in CATALOGUE.surveys]
    parts += [
        names.value(language, attribute, value)
        for attribute, values in names.values.items()
        for value in values
    ]
    parts += [
        survey.question(metric, language, CATALOGUE.company)
        for survey in CATALOGUE.surveys
        for metric in survey.metrics
    ]
    return "\n".join(parts)


def _word(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(token)}(?![\w-])")


@functools.cache  # the same for every text checked in a language (nearly 300 of them)
def forbidden(language: str) -> dict[str, str]:
    """token -> what it is: the ids that must never reach a reader in `language`."""
    ids: dict[str, str] = {}
    ids |= {survey.id: "survey id" for survey in CATALOGUE.surveys}
    ids |= {attribute: "segment attribute id" for attribute in ATTRIBUTE_NAMES}
    for attribute, values in CATALOGUE.names.values.items():
        ids |= {value: f"{attribute} value id" for value in values}
    ids |= {key: "message id" for key in catalogues.entries("en")}
    legit = _every_text(language)
    return {token: kind for token, kind in ids.items() if not _word(token).search(legit)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_covers_the_ids_that_used_to_leak(language: str) -> None:
    checked = forbidden(language)
    for token in ("post-purchase", "service-contact", "businessArea", "webshop", "report_title"):
        assert token in checked, token
    assert "low_nps" in checked and "xlsx_sheet_summary" in checked


def leaks(language: str, shown: str) -> list[str]:
    return [
        f"{kind} {token!r}"
        for token, kind in forbidden(language).items()
        if _word(token).search(shown)
    ]


def decimal_points(language: str, shown: str) -> list[str]:
    if language == "en":
        return []
    for comment, _ in SAMPLE_COMMENTS:  # the customers' own words are theirs
        shown = shown.replace(comment, "")
    return DECIMAL_POINT.findall(URLS.sub("", shown))


def assert_clean(language: str, what: str, shown: str) -> None:
    assert shown.strip(), f"{what}: nothing visible"
    assert leaks(language, shown) == [], f"{what} ({language}) shows ids"
    assert decimal_points(language, shown) == [], f"{what} ({language}): decimal points"


def test_the_checks_catch_a_leak_and_a_decimal_point() -> None:
    assert leaks("fi", "Kysely post-purchase, businessArea: webshop") == [
        "survey id 'post-purchase'",
        "segment attribute id 'businessArea'",
        "businessArea value id 'webshop'",
    ]
    assert leaks("fi", "report_title") == ["message id 'report_title'"]
    assert leaks("fi", "Oston jälkeen, Liiketoiminta-alue: Verkkokauppa") == []
    assert decimal_points("fi", "NPS 33.3 ± 6,3") == ["33.3"]
    assert decimal_points("fi", "16.11.2026, 16.–22.11.2026, 16.11., 3,0 h") == []
    assert decimal_points("en", "NPS 33.3") == []
    assert visible_html(
        "<html><head><title>T</title><style>.a{x:1.5}</style></head>"
        '<body><img alt="Alt" src="x.png"><a href="post-purchase">Link</a></body></html>'
    ).split("\n") == ["T", "Alt", "Link"]


# ---------------------------------------------------------------- the survey's outputs


def _survey_outputs(language: str) -> Iterator[tuple[str, str]]:
    company = CATALOGUE.company
    for survey in CATALOGUE.surveys:
        questions = [
            PageQuestion(m, survey.question(m, language, company), f"score_{m}", None, i == 0)
            for i, m in enumerate(survey.metrics)
        ]
        low, _ = scale_of(survey.primary_metric)
        for error, choice in ((None, None), (text(language, "error_missing_score"), low)):
            page = render_survey_page(
                language=language, questions=questions, company=company, action_url="tok",
                ask_comment=survey.comment, comment="", error=error, link_choice=choice,
            )  # fmt: skip
            yield f"{survey.id} page", visible_html(page)
        for metric in survey.metrics:
            for kind in MESSAGE_KINDS:
                email = render_invitation_email(
                    language=language, metric=metric, kind=kind, company=company,
                    question=survey.question(metric, language, company),
                    survey_url=URL, unsubscribe_url=UNSUBSCRIBE,
                )  # fmt: skip
                yield f"{survey.id} {metric} {kind} subject", email.subject
                yield f"{survey.id} {metric} {kind} email", visible_html(email.html)
                yield f"{survey.id} {metric} {kind} text", URLS.sub("", email.text)
                sms = render_sms(
                    language=language, company=company, metric=metric, survey_url=URL, kind=kind
                )
                yield f"{survey.id} {metric} {kind} SMS", URLS.sub("", sms.text)
            low, high = scale_of(metric)
            yield f"{metric} SMS help", text(language, "sms_help", low=low, high=high)
    yield "thank-you page", visible_html(render_thank_you_page(language=language))
    for status in (400, 404, 405, 410, 500):
        yield f"{status} page", visible_html(render_error_page(language=language, status=status))
    for error in (None, text(language, "error_nothing_chosen")):
        page = render_unsubscribe_page(
            language=language, company=company, action_url="tok", channels=["email", "sms"],
            checked=["email"], error=error,
        )  # fmt: skip
        yield "unsubscribe page", visible_html(page)
    yield (
        "unsubscribed page",
        visible_html(render_unsubscribed_page(language=language, company=company)),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_emails_and_sms_show_no_ids(language: str) -> None:
    shown = list(_survey_outputs(language))
    assert len(shown) > 80
    for what, visible in shown:
        assert_clean(language, what, visible)


def test_scale_labels_carry_their_number_once() -> None:
    # Given the NPS page and email in Finnish
    page = visible_html(
        render_survey_page(
            language="fi",
            questions=[PageQuestion("nps", "Q?", "score", None, True)],
            company="Example Oy",
            action_url="tok",
            ask_comment=False,
            comment="",
            error=None,
        )
    )
    email = render_invitation_email(
        language="fi", metric="nps", question="Q?", company="Example Oy", survey_url=URL,
        unsubscribe_url=UNSUBSCRIBE, kind="invitation",
    )  # fmt: skip
    # Then each end of the scale reads "0 = ..." once, on the page and in both email parts
    for shown in (page, visible_html(email.html), email.text):
        assert "0 = en lainkaan todennäköisesti" in shown
        assert "10 = erittäin todennäköisesti" in shown
        assert not re.search(r"\d+ = \d+ =", shown)


# ---------------------------------------------------------------- the report's outputs


def _scoped_report(language: str) -> Any:
    """The sample counters as the Webshop group (scope businessArea=webshop) sees them."""
    table = sample_rows()
    webshop = next(g for g in load_groups() if g.scope.attribute == "businessArea")
    group = replace(webshop, language=language, cadence="weekly")
    scoped = {
        f"{series}@businessArea=webshop": [
            replace(row, segment_key="all")
            for row in rows
            if row.segment_key == "businessArea=webshop"
        ]
        for series, rows in table.items()
    }

    def read(series: str, first: date, last: date) -> Iterable[CounterRow]:
        return [row for row in scoped.get(series, []) if first <= row.day <= last]

    return build_report_data(group, WEEK, CATALOGUE, read)


def _reports(language: str) -> Iterator[tuple[str, Any]]:
    yield "report", sample_report(language)
    yield "empty report", sample_report(language, empty=True)
    scoped = _scoped_report(language)
    assert scoped.blocks, "the scoped sample has answers"
    yield "scoped report", scoped


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_report_shows_no_ids_in_any_of_its_forms(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, data in _reports(language):
        email = email_for(data, WEEK)
        assert_clean(language, f"{name} subject", email.subject)
        assert_clean(language, f"{name} HTML", visible_html(email.html))
        assert_clean(language, f"{name} text", email.text)
        assert_clean(language, f"{name} workbook", visible_workbook(report_workbook(data)))
        words = drawn_words(monkeypatch, lambda data=data: trend_chart_png(data))
        assert_clean(language, f"{name} chart", words)


def test_the_finnish_report_names_things_as_the_catalogue_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = sample_report("fi")
    email = email_for(data, WEEK)
    shown = visible_html(email.html)
    assert "Rajaus: kaikki" in shown
    assert "Oston jälkeen" in shown and "Liiketoiminta-alue: Verkkokauppa" in shown
    assert "Jakso: 16.–22.11.2026" in shown
    # the rate, answers / invitations under it, then the messages sent: Finnish numbers
    assert re.search(r"Sähköposti\s+19,0\u00a0%\s+518 / 2\u00a0730\s+3\u00a0010", shown)
    assert "Rajaus: Liiketoiminta-alue: Verkkokauppa" in visible_html(
        email_for(_scoped_report("fi"), WEEK).html
    )
    assert "vk 47" in drawn_words(monkeypatch, lambda: trend_chart_png(data))
    book = load_workbook(io.BytesIO(report_workbook(data)))
    assert book.sheetnames == ["Yhteenveto", "Kehitys", "Ryhmät", "Kommentit"]
    assert "ei merkitsevää muutosta" in visible_workbook(report_workbook(data))


def test_a_period_that_is_no_iso_key_is_shown_as_it_is() -> None:
    # A campaign's period is a date range: shown as dates in the language
    data = replace(
        sample_report("sv"), period_label=Period(date(2026, 11, 23), date(2026, 12, 24)).label
    )
    assert "23 nov.–24 dec. 2026" in email_for(data, WEEK).subject
