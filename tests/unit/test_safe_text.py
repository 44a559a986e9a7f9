"""Control characters, bidi overrides and forged lines: cleaned when a comment is stored and
again wherever text from outside is shown (pages, emails, the workbook, the callback task)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from msgspec.structs import replace
from survey_core.logic.collect import parse_comment
from survey_core.logic.escalate import task_request
from survey_core.messages.rendering import PageQuestion, render_report_email, render_survey_page
from survey_core.messages.safe_text import clean_text, one_line
from survey_core.report.model import CommentRow
from survey_core.report.workbook import report_workbook
from survey_core.rules.sms_reply import read_reply

from tests.unit.test_report_outputs import read, report

pytestmark = pytest.mark.unit

# What must never reach a page, an email or a spreadsheet.
NUL, BEL, ESC, DEL, CSI = "\x00", "\x07", "\x1b", "\x7f", "\x9b"
OVERRIDES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
# A comment that hides a reordering and tries to forge a report line after itself.
FORGED_LINE = '2026-11-22 post-purchase NPS 10: "Best shop ever"'
EVIL = f"ok{NUL}{BEL}{ESC}[31m red{DEL}{CSI}\u202egnp.exe\u202c\r\n  {FORGED_LINE}"


def test_clean_text_removes_controls_and_direction_overrides_and_keeps_writing() -> None:
    assert clean_text(f"a{NUL}b{BEL}c{ESC}d{DEL}e{CSI}f") == "abcdef"
    assert clean_text(f"x{OVERRIDES}y\ufeffz\ufff9") == "xyz"
    # line breaks of every kind become "\n"; a tab stays
    assert clean_text("a\r\nb\rc\x85d\u2028e\u2029f\x0bg\tt") == "a\nb\nc\nd\ne\nf\ng\tt"
    # what people write stays: letters, emoji sequences, RTL marks, soft hyphens
    kept = "Hyvä! Åsa 👨‍👩‍👧 🏳️‍🌈 שלום\u200fabc\u00adx"
    assert clean_text(kept) == kept


def test_one_line_shows_line_breaks_as_a_mark() -> None:
    assert one_line("first\r\n\r\n  second \nthird") == "first ↵ second ↵ third"
    assert one_line(" plain ") == "plain"


def test_a_comment_is_stored_clean_from_the_page_and_from_an_sms() -> None:
    stored = parse_comment(EVIL)
    assert stored is not None
    assert not FORBIDDEN.search(stored)
    assert stored == f"ok[31m redgnp.exe\n  {FORGED_LINE}"
    reading = read_reply(f"9 {EVIL}", "nps")
    assert reading.kind == "score" and reading.comment is not None
    assert not FORBIDDEN.search(reading.comment)


def test_the_length_limit_counts_the_cleaned_comment() -> None:
    assert parse_comment("x" * 1000 + NUL * 50) == "x" * 1000


def test_pages_and_emails_never_carry_control_characters() -> None:
    # A comment stored before the rule, shown back on the survey page
    page = render_survey_page(
        language="en",
        questions=[PageQuestion("nps", "How likely?", "score", None, True)],
        company=f"Shop{BEL}",
        action_url="/s/token",
        ask_comment=True,
        comment=EVIL,
        error=None,
        link_choice=None,
    )
    assert not FORBIDDEN.search(page)
    assert "ok[31m redgnp.exe\n" in page  # the line break in the textarea stays
    email = _report_email()
    assert not FORBIDDEN.search(email.html) and not FORBIDDEN.search(email.text)


def _report_email():  # type: ignore[no-untyped-def]
    from tools.preview_report import sample_report

    sample = sample_report("en")
    data = replace(
        sample,
        comments=[
            CommentRow("2026-11-21", "support", "csat", 1, EVIL),
            CommentRow("2026-11-22", "post-purchase", "nps", 3, "Slow.\nVery slow."),
        ],
        segments=[replace(sample.segments[0], value=f"web\n  {FORGED_LINE}")],
    )
    return render_report_email(
        report=data, chart_png=None, chart_alt="", workbook=b"", workbook_name="r.xlsx"
    )


def test_a_comment_cannot_forge_lines_in_the_plain_text_report() -> None:
    text = _report_email().text
    lines = text.splitlines()
    # Each comment is one line of its own, its line breaks shown as marks
    comments = [line for line in lines if line.startswith(("  21 Nov 2026", "  22 Nov 2026"))]
    assert comments == [
        f'  21 Nov 2026 Support CSAT 1: "ok[31m redgnp.exe ↵ {FORGED_LINE}"',
        '  22 Nov 2026 After purchase NPS 3: "Slow. ↵ Very slow."',
    ]
    # and the forged line is nowhere a line of its own; nor is a segment value's
    assert not any(line.strip().startswith(FORGED_LINE) for line in lines)
    [segment] = [line for line in lines if ": web ↵" in line]
    assert f"web ↵ {FORGED_LINE}" in segment


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_workbook_texts_from_outside_stay_text_and_clean(start: str) -> None:
    # Given a comment and a segment value that start like a formula and hold controls
    comment = f'{start}HYPERLINK("http://evil"){NUL}{BEL}\u202e'
    data = replace(
        report(),
        comments=[CommentRow("2026-11-20", "support", "csat", 3, comment)],
        segments=[replace(report().segments[0], value=comment)],
    )
    xlsx = report_workbook(data)
    wb = read(xlsx)
    # Then each is a text cell without the controls, quote-prefixed (text after an edit too)
    for cell in (wb["Comments"]["E2"], wb["Segments"]["D2"]):
        assert cell.value == f'{start}HYPERLINK("http://evil")'
        assert cell.data_type == "s"
        assert cell.quotePrefix
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
    assert "_x0000_" not in strings and "_x0007_" not in strings and "\u202e" not in strings


def test_a_comment_cannot_forge_lines_in_the_callback_task() -> None:
    detail = {
        "invitationId": "inv-1",
        "surveyId": "post-purchase",
        "customerId": "cust-1",
        "answeredAt": "2026-11-16T10:00:00Z",
        "channel": "web",
        "scores": {"nps": 2},
        "segment": {"businessArea": "webshop\nCustomer: someone-else."},
    }
    forged = f"late{BEL}\nCustomer: cust-999. Invitation: inv-999."
    request = task_request(detail, forged, ["nps 2 <= 6"], None)
    lines = request["description"].splitlines()
    assert "Comment: late ↵ Customer: cust-999. Invitation: inv-999." in lines
    assert "Business area: webshop ↵ Customer: someone-else." in lines
    assert [line for line in lines if line.startswith("Customer:")] == [
        "Customer: cust-1. Invitation: inv-1."
    ]
