import re

import pytest
from survey_core.errors import InvalidAnswer
from survey_core.logic.collect import parse_score
from survey_core.messages.brand import Brand, contrast_with_white
from survey_core.messages.formatting import (
    format_hours,
    format_number,
    format_percent,
    format_score_interval,
)
from survey_core.messages.i18n import SUPPORTED_LANGUAGES, resolve_language, text
from survey_core.messages.rendering import (
    MESSAGE_KINDS,
    PageQuestion,
    render_closed_page,
    render_error_page,
    render_invitation_email,
    render_sms,
    render_survey_page,
    render_thank_you_page,
)
from survey_core.messages.sms import SmsSize
from survey_core.rules.scoring import SCALES

pytestmark = pytest.mark.unit

URL = "https://s.example.fi/s/AbCdEfGhIjKlMnOpQrStUv"
UNSUBSCRIBE = "https://s.example.fi/u/AbCdEfGhIjKlMnOpQrStUv"
KIND_SUBJECTS = {
    "invitation": "subject",
    "reminder": "subject_reminder",
    "last-reminder": "subject_last_reminder",
}
# GSM 03.38 basic character set (no extension table): a message of these is one 160-char segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("fi", "fi"), ("FI", "fi"), ("fi-FI", "fi"), ("sv_SE", "sv"), ("de", "en"), (None, "en")],
)
def test_languages_resolve(given: str | None, expected: str) -> None:
    assert resolve_language(given) == expected


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("metric", sorted(SCALES))
@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_invitation_email_has_one_tap_link_per_score_and_an_unsubscribe_link(
    language: str, metric: str, kind: str
) -> None:
    question = text(language, "question_" + metric, company="Example Oy")
    email = render_invitation_email(
        language=language,
        metric=metric,
        question=question,
        company="Example Oy",
        survey_url=URL,
        unsubscribe_url=UNSUBSCRIBE,
        kind=kind,
    )
    low, high = SCALES[metric]
    for part in (email.html, email.text):
        links = re.findall(re.escape(URL) + r"\?score=(\d+)", part)
        assert [int(s) for s in links] == list(range(low, high + 1))
        assert UNSUBSCRIBE in part
        assert text(language, "unsubscribe_link") in part
    assert question in email.text
    assert "<script" not in email.html
    assert email.subject == text(language, KIND_SUBJECTS[kind], company="Example Oy")
    assert "@" not in email.subject  # no personal data in subject lines


def test_each_kind_of_email_says_something_different() -> None:
    subjects = {
        render_invitation_email(
            language="en", metric="nps", question="Q?", company="Example Oy",
            survey_url=URL, unsubscribe_url=UNSUBSCRIBE, kind=kind,
        ).subject
        for kind in MESSAGE_KINDS
    }  # fmt: skip
    assert len(subjects) == len(MESSAGE_KINDS)


# A survey link on the API Gateway URL, the longest the stack makes without a custom domain.
API_URL = "https://a1b2c3d4e5.execute-api.eu-north-1.amazonaws.com/prod/s/AbCdEfGhIjKlMnOpQrStUv"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", MESSAGE_KINDS)
@pytest.mark.parametrize("metric", sorted(SCALES))
@pytest.mark.parametrize("url", [URL, API_URL])
def test_sms_is_one_gsm7_segment_with_the_link_the_scale_and_stop(
    language: str, kind: str, metric: str, url: str
) -> None:
    sms = render_sms(
        language=language, company="Kauppa Esimerkki Oy", metric=metric, survey_url=url, kind=kind
    )
    low, high = SCALES[metric]
    assert url in sms.text
    assert f"{low}-{high}" in sms.text
    assert sms.text.endswith(text(language, "sms_stop"))
    assert "STOP" in sms.text
    assert set(sms.text) <= GSM7
    assert len(sms.text) <= 160
    assert (sms.size.encoding, sms.size.segments) == ("GSM-7", 1)


@pytest.mark.parametrize(
    ("company", "start"),
    [
        ("Suomen Esimerkkikauppa Oy", "Muistutus: arvioi Suomen Esimerkkikauppa Oy 0-10: "),
        # The longest company name the catalogue allows (40): company, scale, link and STOP.
        (
            "Suomen Suurin Esimerkkikauppa ja Palvelu",
            "Suomen Suurin Esimerkkikauppa ja Palvelu 0-10: ",
        ),
    ],
)
def test_longer_names_get_shorter_wordings_to_stay_in_one_segment(company: str, start: str) -> None:
    sms = render_sms(
        language="fi", company=company, metric="nps", survey_url=API_URL, kind="reminder"
    )
    assert sms.text.startswith(start)
    assert sms.text.endswith("\nLopetus: vastaa STOP")
    assert sms.size == SmsSize("GSM-7", len(sms.text), 1)


def test_when_nothing_fits_the_shortest_wording_is_counted_in_segments() -> None:
    long_link = API_URL.replace("/prod/", "/" + "x" * 60 + "/")
    sms = render_sms(
        language="en", company="Example Oy", metric="nps", survey_url=long_link, kind="invitation"
    )
    assert sms.text == f"Example Oy 0-10: {long_link}\nReply STOP to opt out"
    assert sms.size == SmsSize("GSM-7", len(sms.text), 2)


def test_characters_outside_gsm7_make_a_ucs2_message_counted_in_segments() -> None:
    sms = render_sms(
        language="en", company="Łódź Shop", metric="nps", survey_url=URL, kind="invitation"
    )
    assert sms.size.encoding == "UCS-2"
    assert sms.size.units == len(sms.text)
    assert sms.size.segments == -(-len(sms.text) // 67)  # 67 units per part of a long one


def test_markup_is_escaped_everywhere_in_html() -> None:
    company = "<script>alert(1)</script>"
    email = render_invitation_email(
        language="en",
        metric="nps",
        question=f"Would you recommend {company}?",
        company=company,
        survey_url=URL,
        unsubscribe_url=UNSUBSCRIBE,
        kind="invitation",
    )
    page = render_survey_page(
        language="en",
        questions=[_question("nps", f"Would you recommend {company}?")],
        company=company,
        action_url="tok",
        ask_comment=True,
        comment="</textarea><script>x()</script>",
        error=None,
    )
    for html in (email.html, page):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_survey_page_is_an_accessible_form_without_javascript(language: str) -> None:
    page = render_survey_page(
        language=language,
        questions=[_question("nps", "Q?", selected=9)],
        company="Example Oy",
        action_url="tok",
        ask_comment=True,
        comment="",
        error=text(language, "error_missing_score"),
    )
    assert f'<html lang="{language}">' in page
    assert "<h1>" in page
    assert '<form method="post" action="tok">' in page
    assert len(re.findall(r'<input type="radio" name="score"', page)) == 11
    assert len(re.findall(r'<label for="score-\d+">', page)) == 11
    assert len(re.findall(r'aria-describedby="score-ends form-error"', page)) == 11
    assert re.search(r'value="9" checked', page)
    assert 'role="alert"' in page
    assert '<label for="comment">' in page
    assert "<script" not in page


def test_survey_page_asks_every_question_and_only_the_first_is_required() -> None:
    page = render_survey_page(
        language="en",
        questions=[
            _question("csat", "How satisfied?", selected=4),
            _question("ces", "How easy?", field="score_ces", required=False),
        ],
        company="Example Oy",
        action_url="tok",
        ask_comment=False,
        comment="",
        error=None,
    )
    assert len(re.findall(r'name="score" [^>]*required', page)) == 5  # CSAT 1-5
    assert len(re.findall(r'name="score_ces" id="score_ces-\d" value="\d"', page)) == 7  # 1-7
    assert not re.search(r'name="score_ces"[^>]*required', page)
    assert "How easy? <span" in page and "(optional)" in page
    assert "<textarea" not in page  # this survey asks no comment


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_scale_starts_with_a_no_choice_stop_so_the_arrow_keys_never_wrap_round(
    language: str,
) -> None:
    # A radio group's arrow keys go round: without a stop, left from the lowest score would
    # choose the highest. The stop comes first in each group, posts an empty score (which the
    # required first question refuses as missing), is named in the page's language and takes
    # no place in the row.
    page = render_survey_page(
        language=language,
        questions=[
            _question("nps", "How likely?"),
            _question("ces", "How easy?", field="score_ces", required=False),
        ],
        company="Example Oy",
        action_url="tok",
        ask_comment=False,
        comment="",
        error=None,
    )
    for field in ("score", "score_ces"):
        radios = re.findall(rf'<input type="radio"[^>]*name="{field}"[^>]*>', page)
        assert 'value=""' in radios[0] and "checked" not in radios[0]
        assert f'aria-label="{text(language, "no_choice")}"' in radios[0]
        assert all('value=""' not in radio for radio in radios[1:])
        assert f'<label for="{field}-none"' not in page
    with pytest.raises(InvalidAnswer, match="missing-score"):
        parse_score("nps", "")


def _checked(page: str, field: str = "score") -> list[int]:
    return [int(v) for v in re.findall(rf'name="{field}" [^>]*value="(\d+)" checked', page)]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("metric", sorted(SCALES))
def test_a_one_tap_link_pre_checks_exactly_its_score_with_a_send_button_under_it(
    language: str, metric: str
) -> None:
    low, high = SCALES[metric]
    for score in range(low, high + 1):
        # Given the page a one-tap link for this score opens (nothing stored yet)
        page = render_survey_page(
            language=language,
            questions=[_question(metric, "Q?", selected=score)],
            company="Example Oy",
            action_url="tok",
            ask_comment=True,
            comment="",
            error=None,
            link_choice=score,
        )
        # Then exactly that score is checked, server-side (no script on the page)
        assert _checked(page) == [score]
        assert "<script" not in page
        # and right under the question the page says it is not sent yet, with a send button
        # before the comment, so one more tap records it
        after_question = page.split("</fieldset>", 1)[1]
        notice = text(language, "link_choice_notice", score=score)
        assert after_question.index(notice) < after_question.index('<button type="submit"')
        assert after_question.index('<button type="submit"') < after_question.index("<textarea")
        assert text(language, "send_choice") in after_question.split("<textarea", 1)[0]


def test_without_a_link_choice_the_page_has_one_button_and_no_notice() -> None:
    page = render_survey_page(
        language="en",
        questions=[_question("nps", "Q?", selected=3)],  # a stored answer, shown again
        company="Example Oy",
        action_url="tok",
        ask_comment=True,
        comment="",
        error=None,
    )
    assert _checked(page) == [3]
    assert page.count("<button") == 1
    assert 'class="notice"' not in page


def test_a_link_choice_on_a_single_question_without_comment_keeps_one_button() -> None:
    page = render_survey_page(
        language="en",
        questions=[_question("nps", "Q?", selected=9)],
        company="Example Oy",
        action_url="tok",
        ask_comment=False,
        comment="",
        error=None,
        link_choice=9,
    )
    # The form's own button already follows the question: no second one
    assert _checked(page) == [9]
    assert page.count("<button") == 1
    assert page.index('class="notice"') < page.index("<button")


def _question(
    metric: str,
    question: str,
    selected: int | None = None,
    field: str = "score",
    required: bool = True,
) -> PageQuestion:
    return PageQuestion(metric, question, field, selected, required)


@pytest.mark.parametrize("status", [400, 404, 410, 500])
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_error_and_thank_you_pages_render(status: int, language: str) -> None:
    page = render_error_page(language=language, status=status)
    assert text(language, f"error_{status}_title") in page
    thanks = render_thank_you_page(language=language)
    assert text(language, "thanks_title") in thanks


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_report_email_shows_scores_with_intervals_and_an_empty_variant(language: str) -> None:
    from survey_core.logic.report import email_for

    from tools.preview_report import WEEK, sample_report

    report = sample_report(language)
    email = email_for(report, WEEK)
    [nps] = [b for b in report.blocks if b.metric == "nps"]
    h = nps.headline
    assert h.value is not None and h.low is not None and h.high is not None
    shown = format_number(language, h.value, 1)
    interval = format_score_interval(language, h.low, h.high, 1)
    assert f"{shown}</strong> ({interval})" in email.html
    assert f"NPS: {shown} ({interval}) (n = {h.n})" in email.text
    assert "&plusmn;" not in email.html and "±" not in email.text
    # the takeaway first, in the report's language
    assert report.takeaway_line
    assert email.text.index(report.takeaway_line) < email.text.index("NPS: ")
    assert report.takeaway_line in email.html
    # each rate beside its own denominator, the channel by its name
    email_row = next(c for c in report.channels if c.channel == "email")
    rate = email_row.rate
    numerator = format_number(language, rate.numerator)
    denominator = format_number(language, rate.denominator)
    channel = text(language, "channel_email")
    assert f"{channel}: {numerator} / {denominator} = " in email.text
    cells = re.sub(r"<td[^>]*>", "<td>", email.html)
    percent = format_percent(language, rate.pct)
    assert (
        f"<td>{channel}</td><td><strong>{percent}</strong><br>{numerator} / {denominator}</td>"
        in cells
    )
    # a segment with too few answers says so; no segment is ranked by number
    assert text(language, "report_too_few") in email.text
    assert text(language, "report_segment_no_difference") in email.html
    period = {"fi": "16.–22.11.2026", "sv": "16–22 nov. 2026", "en": "16–22 Nov 2026"}[language]
    assert report.group in email.subject and period in email.subject
    # a comment with markup: escaped in the HTML, as written in the text part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text
    assert [i.content_id for i in email.inline_images] == ["trend"]
    assert email.attachments[0].filename == "report-2026-11-16-2026-11-22.xlsx"
    # the follow-up: outcomes, the overdue open task counted as missed, time to an agent
    fu = report.follow_up
    assert (fu.overdue, fu.sla_met, fu.decided) == (1, 14, 22)
    for part in (email.text, email.html):
        assert f"{text(language, 'report_overdue')} 1)" in part
        assert f"({fu.sla_met} / {fu.decided})" in part
        assert f"{text(language, 'report_time_to_agent')}: " in part
        assert f"{format_hours(language, 3.0)} (n = 14)" in part
    empty = email_for(sample_report(language, empty=True), WEEK)
    assert text(language, "report_empty") in empty.html
    assert text(language, "report_empty") in empty.text
    assert empty.inline_images == ()


def _page(**changes: object) -> str:
    args: dict[str, object] = {
        "language": "fi",
        "questions": [_question("nps", "Q?")],
        "company": "Example Oy",
        "action_url": "tok",
        "ask_comment": True,
        "comment": "",
        "error": None,
    }
    return render_survey_page(**{**args, **changes})  # type: ignore[arg-type]


def test_the_scale_is_one_row_with_its_end_labels_under_its_ends() -> None:
    html = _page()
    # One grid row, as many equal columns as scores, whatever the width (page.html)
    assert "grid-auto-flow: column" in html and "grid-auto-columns: minmax(0, 1fr)" in html
    assert "flex-wrap" not in html
    # The ends: the first label under 0, the last (right-aligned) under 10, each number once
    ends = re.search(r'<div class="ends"[^>]*><span>(.*?)</span><span>(.*?)</span>', html)
    assert ends is not None
    assert ends.groups() == ("0 = en lainkaan todennäköisesti", "10 = erittäin todennäköisesti")


def test_the_required_question_is_a_radiogroup_so_aria_required_is_allowed() -> None:
    html = _page()
    # aria-required on a plain fieldset is axe-core's critical aria-allowed-attr
    assert re.search(r'<fieldset role="radiogroup" aria-labelledby="score-legend" '
                     r'aria-required="true">', html)  # fmt: skip
    assert not re.search(r"<fieldset aria-required", html)


def test_an_answered_survey_says_so_above_the_answer() -> None:
    answered = _page(answered=True, questions=[_question("nps", "Q?", selected=8)])
    assert text("fi", "answered_notice") in answered
    assert 'value="8" checked' in answered
    assert text("fi", "answered_notice") not in _page()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_closed_and_unknown_link_pages_name_the_company_in_the_customers_language(
    language: str,
) -> None:
    closed = render_closed_page(language=language, company="Example Oy", answered=False)
    assert f'<html lang="{language}">' in closed
    assert text(language, "error_410_body", company="Example Oy") in closed
    assert "Example Oy" in closed
    answered = render_closed_page(language=language, company="Example Oy", answered=True)
    assert text(language, "closed_answered_title") in answered
    assert "Example Oy" in answered
    unknown = render_error_page(language=language, status=404, company="Example Oy")
    assert text(language, "error_404_link_body", company="Example Oy") in unknown


def test_pages_wear_the_catalogues_colour_and_logo(tmp_path: object) -> None:
    from pathlib import Path

    logo = Path(str(tmp_path)) / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    brand = Brand(colour="#7a1f5c", logo=logo)
    html = _page(brand=brand)
    assert "background: #7a1f5c" in html and "#0b5394" not in html
    assert '<img class="logo" src="data:image/svg+xml;base64,' in html
    assert 'alt="Example Oy"' in html
    thanks = render_thank_you_page(language="fi", company="Example Oy", brand=brand)
    assert "#7a1f5c" in thanks and "data:image/svg+xml" in thanks
    # The default colour passes WCAG AA under white text
    assert contrast_with_white(Brand().colour) >= 4.5


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_the_invitation_email_fits_a_phone_with_a_title_and_a_heading(metric: str) -> None:
    email = render_invitation_email(
        language="sv", metric=metric, question="Fråga?", company="Example Oy",
        survey_url=URL, unsubscribe_url=UNSUBSCRIBE, kind="invitation",
    )  # fmt: skip
    html = email.html
    # A title (the subject), the language, a main landmark and one first-level heading
    assert f"<title>{email.subject}</title>" in html and '<html lang="sv">' in html
    assert 'role="main"' in html and html.count("<h1") == 1
    # No fixed width a phone cannot show: only percentages and a max-width on a 100 % table
    assert not re.search(r'width="(\d+)"', html)
    assert not re.search(r"(?<!max-)width:\s*\d{3,}px", html)
    # The buttons in rows of at most six equal cells: 0-10 as 0-5 and 6-10
    rows = re.findall(r"<tr>\n((?:<td width=.*\n?)+)</tr>", html)
    counts = [len(re.findall(r'<td width="', row)) for row in rows]
    low, high = SCALES[metric]
    assert all(count <= 6 for count in counts) and len(set(counts)) == 1
    links = re.findall(r"\?score=(\d+)", html)
    assert [int(s) for s in links] == list(range(low, high + 1))
    if metric == "nps":
        assert len(rows) == 2
