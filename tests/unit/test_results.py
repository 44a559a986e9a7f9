"""The results view's overview (logic/results.py): scopes enforced on every read, the periods
a viewer can choose, and the same numbers as the report for the same scope and period."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.access import Role, access
from survey_core.catalogue import load_catalogue
from survey_core.logic.results import (
    COMMENTS_READ,
    COMMENTS_SHOWN,
    CommentsPage,
    FoundComment,
    InvalidPeriod,
    OutOfScope,
    Viewer,
    allowed_scope,
    asked_scope,
    comments,
    comments_csv,
    nav_links,
    overview,
    overview_filter,
    period_of,
)
from survey_core.messages.i18n import text
from survey_core.messages.results_pages import ResultsChrome, render_results_overview
from survey_core.report.config import Period, Scope, load_groups
from survey_core.report.content import CounterRow, build_report_data
from survey_core.report.model import CommentRow

from tools.preview_report import WEEK, sample_rows

pytestmark = pytest.mark.unit

EVERYTHING = Scope(None, None)
WEBSHOP = Scope("businessArea", "webshop")
STORE = Scope("businessArea", "store")
AGENT_7 = Scope("agentId", "agent-7")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Reads:
    """The counters of tools/preview_report's sample, read as the counters repository would: a
    scoped series ("...@businessArea=webshop") holds its scope's counts under "all". Every
    series asked is recorded."""

    def __init__(self) -> None:
        self.table = sample_rows()
        self.asked: list[str] = []

    def __call__(self, series: str, first: date, last: date) -> Iterable[CounterRow]:
        self.asked.append(series)
        base, _, scope = series.partition("@")
        rows = [r for r in self.table.get(base, []) if first <= r.day <= last]
        if not scope:
            return rows
        return [replace(r, segment_key="all") for r in rows if r.segment_key == scope]


def no_comments(*_: Any) -> list[Any]:
    return []


def no_overdue(*_: Any) -> int:
    return 0


def viewer(role: str, scope: str | None = None) -> Viewer:
    """A signed-in user as the token verifier sees them (survey_core.access decides)."""
    return Viewer(Role(role), access(Role(role), scope))


def test_a_viewers_access_is_read_as_a_scope_of_the_counters() -> None:
    assert viewer("cx-admin", "business_area=webshop").scope == EVERYTHING  # admins: all
    assert viewer("manager", "all").scope == EVERYTHING
    assert viewer("manager", "business_area=webshop").scope == WEBSHOP
    assert viewer("manager", "touchpoint=service").scope == Scope("touchpoint", "service")
    assert viewer("agent", "agent=agent-7").scope == AGENT_7


def test_a_viewer_who_sees_everything_reads_what_they_ask_for() -> None:
    admin = viewer("cx-admin")
    assert allowed_scope(admin, EVERYTHING) == EVERYTHING
    assert allowed_scope(admin, STORE) == STORE


@pytest.mark.parametrize(
    ("viewer", "asked"),
    [
        (viewer("manager", "business_area=webshop"), STORE),
        (viewer("manager", "business_area=webshop"), Scope("touchpoint", "service")),
        (viewer("manager", "business_area=webshop"), AGENT_7),
        (viewer("agent", "agent=agent-7"), Scope("agentId", "agent-8")),
        (viewer("agent", "agent=agent-7"), WEBSHOP),
    ],
)
def test_an_edited_url_asking_outside_the_viewers_scope_gets_nothing(
    viewer: Viewer, asked: Scope
) -> None:
    with pytest.raises(OutOfScope):
        allowed_scope(viewer, asked)
    # and nothing is read
    reads = Reads()
    with pytest.raises(OutOfScope):
        overview(
            viewer, asked, WEEK, "fi", load_catalogue(),
            read=reads, comments=no_comments, overdue=no_overdue, now=NOW,
        )  # fmt: skip
    assert reads.asked == []


def test_a_scoped_viewer_asking_for_everything_reads_their_scope_only() -> None:
    reads = Reads()
    data = overview(
        viewer("manager", "business_area=webshop"), EVERYTHING, WEEK, "en", load_catalogue(),
        read=reads, comments=no_comments, overdue=no_overdue, now=NOW,
    )  # fmt: skip
    assert reads.asked and all(series.endswith("@businessArea=webshop") for series in reads.asked)
    assert data.blocks  # the webshop's own numbers


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_overview_says_what_the_report_says_for_the_same_scope_and_period(
    language: str,
) -> None:
    # Given a weekly report of the Webshop group (reports.yaml's is daily) and the overview of
    # a webshop manager for the same week
    catalogue = load_catalogue()
    [group] = [g for g in load_groups() if g.scope == WEBSHOP]
    group = replace(group, language=language, cadence="weekly")
    report = build_report_data(group, WEEK, catalogue, Reads(), [], overdue=2)
    page = overview(
        viewer("manager", "business_area=webshop"), EVERYTHING, WEEK, language, catalogue,
        read=Reads(), comments=no_comments, overdue=lambda *_: 2, now=NOW,
    )  # fmt: skip
    # Then every number is the same (only the title and the group's name differ: the page is
    # not a report group's, and nothing is sent)
    assert page.title == text(language, "results_title") and page.group == ""
    assert replace(page, group=report.group, title=report.title) == report


def test_the_periods_a_viewer_can_choose() -> None:
    today = date(2026, 11, 25)
    assert period_of("week", today) == Period(date(2026, 11, 19), today)
    assert period_of("4-weeks", today).days == 28
    assert period_of("quarter", today).days == 91
    assert period_of("range", today, date(2026, 1, 1), date(2026, 3, 31)).days == 90


@pytest.mark.parametrize(
    ("choice", "first", "last", "problem"),
    [
        ("year", None, None, "unknown period"),
        ("range", None, date(2026, 11, 1), "first and last"),
        ("range", date(2026, 11, 2), date(2026, 11, 1), "ends before it begins"),
        ("range", date(2026, 11, 1), date(2026, 11, 26), "future"),
        ("range", date(2025, 11, 1), date(2026, 11, 25), "at most 366 days"),
    ],
)
def test_a_period_that_cannot_be_shown_is_refused(
    choice: str, first: date | None, last: date | None, problem: str
) -> None:
    with pytest.raises(InvalidPeriod, match=problem):
        period_of(choice, date(2026, 11, 25), first, last)


def test_the_filter_forms_scope_value_is_only_a_wish() -> None:
    assert asked_scope(None) == EVERYTHING and asked_scope("all") == EVERYTHING
    assert asked_scope("businessArea=webshop") == WEBSHOP
    for raw in ("webshop", "=webshop", "businessArea="):
        with pytest.raises(ValueError):
            asked_scope(raw)
    # what is read is decided by the viewer's scope
    with pytest.raises(OutOfScope):
        allowed_scope(viewer("manager", "business_area=webshop"), asked_scope("businessArea=store"))


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_overview_page_is_a_get_form_over_the_reports_content(language: str) -> None:
    catalogue = load_catalogue()
    admin, manager = viewer("cx-admin"), viewer("manager", "business_area=webshop")
    for who in (admin, manager):
        data = overview(
            who, EVERYTHING, WEEK, language, catalogue,
            read=Reads(), comments=no_comments, overdue=no_overdue, now=NOW,
        )  # fmt: skip
        form = overview_filter(who, "week", WEEK, who.scope, language, catalogue, "/r")
        page = render_results_overview(
            report=data, chart_png=b"\x89PNG...", chart_alt="alt", form=form,
            chrome=ResultsChrome(
                company=catalogue.company, links=nav_links(who, "/r", "?period=week"),
                sign_out_url="/r/sign-out", csrf="token", export_url="/r/export.xlsx?period=week",
            ),
        )  # fmt: skip
        # The filter reads (GET), names every period choice, and the chosen one
        assert '<form method="get" action="/r"' in page
        # and the only POST is sign-out, with the session's CSRF token
        assert page.count('method="post"') == 1
        assert '<form method="post" action="/r/sign-out"' in page
        assert '<input type="hidden" name="csrf" value="token">' in page
        assert 'href="/r/export.xlsx?period=week"' in page
        assert page.count("<option") == 4 + (len(form.scopes) if who is admin else 0)
        assert '<option value="week" selected>' in page
        assert f'<html lang="{language}">' in page
        assert text(language, "results_title") in page
        # the report's own content below, its chart inline (the sample counts no answers
        # through the webshop's own response series: the manager's page says so instead)
        assert text(language, "report_attachment_note") not in page and "cid:" not in page
        if who is admin:
            assert 'src="data:image/png;base64,' in page
            assert data.takeaway_line and data.takeaway_line in page
        else:
            assert data.empty and text(language, "report_empty") in page
    # Only a viewer who sees everything chooses a scope: each named business area and touchpoint
    admin_form = overview_filter(admin, "week", WEEK, WEBSHOP, "en", catalogue, "/r")
    assert [c.value for c in admin_form.scopes if c.selected] == ["businessArea=webshop"]
    assert "touchpoint=service" in [c.value for c in admin_form.scopes]
    assert overview_filter(manager, "week", WEEK, WEBSHOP, "en", catalogue, "/r").scopes == []


def _found(day: int, score: int, text_: str, area: str = "webshop", hour: int = 10) -> FoundComment:
    row = CommentRow(f"2026-11-{day:02d}", "post-purchase", "nps", score, text_)
    return FoundComment(f"2026-11-{day:02d}T{hour:02d}:00:00Z", row, {"businessArea": area})


class CommentReads:
    """Stored comments by (survey, day), newest first; every read recorded."""

    def __init__(self, stored: list[FoundComment]) -> None:
        self.stored = sorted(stored, key=lambda c: c.answered_at, reverse=True)
        self.reads: list[tuple[str, str, int, int]] = []  # survey, day, limit, returned

    def __call__(self, survey_id: str, day: str, limit: int) -> list[FoundComment]:
        found = [
            c for c in self.stored if c.row.survey_id == survey_id and c.row.answered_on == day
        ][:limit]
        self.reads.append((survey_id, day, limit, len(found)))
        return found


def test_comments_newest_first_in_the_scope_group_and_search() -> None:
    reads = CommentReads(
        [
            _found(20, 3, "Toimitus myöhästyi"),
            _found(21, 10, "Hyvä palvelu"),
            _found(22, 2, "Paketti rikki, toimitus hidas", hour=9),
            _found(22, 1, "Myymälässä jonoa", area="store", hour=11),
        ]
    )
    manager = viewer("manager", "business_area=webshop")
    page = comments(manager, EVERYTHING, WEEK, load_catalogue(), reads)
    assert [c.row.text for c in page.comments] == [
        "Paketti rikki, toimitus hidas",
        "Hyvä palvelu",
        "Toimitus myöhästyi",
    ]  # the store's comment is outside the manager's scope
    assert page.complete and page.read == 4
    low = comments(manager, EVERYTHING, WEEK, load_catalogue(), reads, group="low")
    assert [c.row.score for c in low.comments] == [2, 3]
    found = comments(manager, EVERYTHING, WEEK, load_catalogue(), reads, search="TOIMITUS")
    assert len(found.comments) == 2
    with pytest.raises(OutOfScope):
        comments(manager, STORE, WEEK, load_catalogue(), reads)


def test_comments_read_a_bounded_number_of_items_however_many_are_stored() -> None:
    # Given 2,000 comments a day for a week
    stored = [_found(16 + d, 5, f"c{d}-{i}", hour=i % 24) for d in range(7) for i in range(2000)]
    reads = CommentReads(stored)
    admin = viewer("cx-admin")
    page = comments(admin, EVERYTHING, WEEK, load_catalogue(), reads, search="nothing-matches")
    # Then at most COMMENTS_READ are read, and the page says it stopped early
    assert page.read <= COMMENTS_READ and sum(r[3] for r in reads.reads) == page.read
    assert not page.complete and page.comments == []
    shown = comments(admin, EVERYTHING, WEEK, load_catalogue(), reads)
    assert len(shown.comments) == COMMENTS_SHOWN and not shown.complete


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"group": "worst"}, "score group"), ({"search": "x" * 101}, "too long"),
     ({"survey_id": "nope"}, "unknown survey")],
)  # fmt: skip
def test_a_comments_filter_that_cannot_be_shown_is_refused(
    kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        comments(viewer("cx-admin"), EVERYTHING, WEEK, load_catalogue(), CommentReads([]), **kwargs)


def test_the_comments_csv_is_in_the_pages_language_and_never_a_formula() -> None:
    page = CommentsPage(
        [
            _found(22, 2, '=HYPERLINK("http://evil")\nrivi kaksi'),
            _found(21, 9, "-1 ei kaavaa", area="b2b"),
            _found(20, 10, 'Hyvä; "lainaus", pilkku'),
        ],
        read=3,
        complete=True,
    )
    data = comments_csv(page, "fi", load_catalogue())
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 with its BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "Päivä", "Kysely", "Mittari", "Tulos", "Liiketoiminta-alue", "Kohtaamispiste", "Kommentti"
    ]  # fmt: skip
    assert rows[1][1] == "Oston jälkeen" and rows[1][4] == "Verkkokauppa"
    assert rows[1][-1].startswith("'=HYPERLINK") and "\n" not in rows[1][-1]
    assert rows[2][-1] == "'-1 ei kaavaa" and rows[2][4] == "Yritysasiakkaat"
    assert rows[3][-1] == 'Hyvä; "lainaus", pilkku'
    assert len(rows) == 4
