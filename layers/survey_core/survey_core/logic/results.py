"""The results view's overview: every survey's numbers for one viewer's scope and a chosen
period, made by the report's own code from the same counters, so a page and the report say
the same for the same scope and period (DESIGN 5c).

Pure: the counters, the comments and the overdue tasks come in as functions (the report
function's reads: logic/report.counter_rows, recent_comments, overdue_tasks), so every rule
here runs in unit tests without AWS.

The scope is enforced here, on every read: a viewer limited to a business area, a touchpoint
or their own agent id reads within it whatever the request asks (an edited URL asking for
another scope gets OutOfScope, never the data); a viewer who sees everything may narrow it to
one segment value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..access import Role, ScopeKind
from ..access import Scope as Access
from ..catalogue import Catalogue
from ..messages.i18n import text
from ..messages.localizer import Localizer
from ..messages.rendering import Choice, CommentsFilter, OverviewFilter
from ..messages.safe_text import one_line
from ..report.config import Period, ReportGroup, Scope
from ..report.content import CounterRows, build_report_data
from ..report.model import CommentRow, ReportData

# What a user's access scope (survey_core/access.py) limits: a segment attribute of the counters.
SEGMENT_ATTRIBUTES = {
    ScopeKind.BUSINESS_AREA: "businessArea",
    ScopeKind.TOUCHPOINT: "touchpoint",
    ScopeKind.AGENT: "agentId",
}
# The periods a viewer can choose: the last 7, 28 or 91 days up to today, or a range of days.
PERIOD_DAYS = {"week": 7, "4-weeks": 28, "quarter": 91}
PERIOD_NAMES = {
    "week": "results_period_week",
    "4-weeks": "results_period_4_weeks",
    "quarter": "results_period_quarter",
    "range": "results_period_range",
}
# The segment attributes a viewer who sees everything can narrow the overview to: those the
# catalogue names values for (the report scopes' attributes).
FILTER_ATTRIBUTES = ("businessArea", "touchpoint")
MAX_RANGE_DAYS = 366
UTC_ZONE = ZoneInfo("UTC")


class OutOfScope(Exception):
    """A request for data outside the viewer's scope (the page answers 403 and shows none)."""


class InvalidPeriod(ValueError):
    """A period that cannot be shown: reversed, in the future, too long, or unknown."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: their role and the scope survey_core.access gave them (from the signed-in
    user's groups and custom:scope)."""

    role: Role
    access: Access

    @property
    def scope(self) -> Scope:
        """The access scope as the counters' scope: everything, or one segment value."""
        if self.access.kind is ScopeKind.ALL:
            return Scope(None, None)
        return Scope(SEGMENT_ATTRIBUTES[self.access.kind], self.access.value)


def allowed_scope(viewer: Viewer, asked: Scope) -> Scope:
    """The scope a request reads. A viewer with a scope reads within it: asking for nothing
    narrower (the whole of it) or for exactly it gives it; asking for anything else is
    OutOfScope. A viewer who sees everything reads what they ask for."""
    if viewer.scope.attribute is None:
        return asked
    if asked.attribute is None or asked == viewer.scope:
        return viewer.scope
    raise OutOfScope(f"outside the viewer's {viewer.scope.attribute} scope")


def period_of(
    choice: str, today: date, first: date | None = None, last: date | None = None
) -> Period:
    """The chosen period: "week", "4-weeks" or "quarter" (the last 7, 28 or 91 days, today
    included), or "range" from `first` to `last` (whole days, up to today, at most
    MAX_RANGE_DAYS)."""
    if choice in PERIOD_DAYS:
        return Period(today - timedelta(days=PERIOD_DAYS[choice] - 1), today)
    if choice != "range":
        raise InvalidPeriod(f"unknown period {choice!r}")
    if first is None or last is None:
        raise InvalidPeriod("a range needs its first and last day")
    if first > last:
        raise InvalidPeriod("the range ends before it begins")
    if last > today:
        raise InvalidPeriod("the range ends in the future")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidPeriod(f"a range is at most {MAX_RANGE_DAYS} days")
    return Period(first, last)


def _cadence(period: Period) -> str:
    """How the trend labels its periods: by ISO week when the period is one, else by dates."""
    is_week = period.days == 7 and period.first_day.weekday() == 0
    return "weekly" if is_week else "range"


def view_group(scope: Scope, period: Period, language: str, zone: ZoneInfo) -> ReportGroup:
    """The report group a page is: the report's code then computes exactly what a report for
    this scope and period would (no recipients: nothing is sent)."""
    return ReportGroup(
        name="",  # not a report group: the page shows no group's name
        recipients=(),
        scope=scope,
        cadence=_cadence(period),
        weekday=0,
        send_at=time(0),
        time_zone=zone,
        language=language,
        campaign=period,
    )


Comments = Callable[[ReportGroup, Period, Catalogue], Sequence[CommentRow]]
Overdue = Callable[[ReportGroup, Period, Catalogue, datetime], int]


def overview(
    viewer: Viewer,
    asked: Scope,
    period: Period,
    language: str,
    catalogue: Catalogue,
    *,
    read: CounterRows,
    comments: Comments,
    overdue: Overdue,
    now: datetime,
    zone: ZoneInfo = UTC_ZONE,
) -> ReportData:
    """Every survey's metrics with their intervals and change verdicts, the trend, response
    rates and callbacks for the viewer's allowed scope and the period."""
    group = view_group(allowed_scope(viewer, asked), period, language, zone)
    return build_report_data(
        group,
        period,
        catalogue,
        read,
        comments(group, period, catalogue),
        title=text(language, "results_title"),
        overdue=overdue(group, period, catalogue, now.astimezone(UTC)),
    )


def scope_value(scope: Scope) -> str:
    """A scope as the filter form's value: "all" or "businessArea=webshop"."""
    return scope.segment_key


def asked_scope(raw: str | None) -> Scope:
    """The filter form's scope value back as a Scope ("all" when absent). The value is only a
    wish: allowed_scope decides what is read."""
    if raw is None or raw == "all":
        return Scope(None, None)
    attribute, separator, value = raw.partition("=")
    if not separator or not attribute or not value:
        raise ValueError("a scope is 'all' or attribute=value")
    return Scope(attribute, value)


def overview_filter(
    viewer: Viewer,
    choice: str,
    period: Period,
    scope: Scope,
    language: str,
    catalogue: Catalogue,
    action_url: str,
) -> OverviewFilter:
    """The filter form of an overview: every period choice, and for a viewer who sees
    everything, every named value of the filter attributes; the shown ones selected."""
    periods = [
        Choice(name, text(language, message), name == choice)
        for name, message in PERIOD_NAMES.items()
    ]
    scopes: list[Choice] = []
    if viewer.scope.attribute is None:
        names = catalogue.names
        scopes.append(Choice("all", names.scope(language, None, None), scope.attribute is None))
        for attribute in FILTER_ATTRIBUTES:
            for value in names.values.get(attribute, {}):
                option = Scope(attribute, value)
                label = names.scope(language, attribute, value)
                scopes.append(Choice(scope_value(option), label, option == scope))
    return OverviewFilter(
        action_url=action_url,
        periods=periods,
        first_day=period.first_day.isoformat(),
        last_day=period.last_day.isoformat(),
        scopes=scopes,
    )


# ---------------------------------------------------------------- comments

COMMENTS_SHOWN = 50  # a page's comments at most
COMMENTS_READ = 1000  # the responses a page reads at most, however many are stored
COMMENTS_READ_PER_DAY = 100  # per survey and day
# Score groups of the comments filter, per metric: the report's shares (NPS detractors /
# passives / promoters; CSAT 1-2 / 3 / satisfied 4-5; CES high effort 1-3 / 4 / 5-7).
SCORE_GROUPS: dict[str, dict[str, range]] = {
    "nps": {"low": range(0, 7), "middle": range(7, 9), "high": range(9, 11)},
    "csat": {"low": range(1, 3), "middle": range(3, 4), "high": range(4, 6)},
    "ces": {"low": range(1, 4), "middle": range(4, 5), "high": range(5, 8)},
}
GROUP_NAMES = {
    "all": "results_group_all",
    "low": "results_group_low",
    "middle": "results_group_middle",
    "high": "results_group_high",
}
MAX_SEARCH = 100


@dataclass(frozen=True)
class FoundComment:
    answered_at: str  # ISO instant: newest first
    row: CommentRow
    segment: Mapping[str, str]


@dataclass(frozen=True)
class CommentsPage:
    comments: list[FoundComment]
    read: int  # responses read for the page
    complete: bool  # False: the bounded read stopped before the period's oldest comment


# A survey's commented responses of one day, newest first, at most `limit` (dal/store).
ReadComments = Callable[[str, str, int], Iterable[FoundComment]]


def _wanted(found: FoundComment, scope: Scope, group: str, search: str) -> bool:
    segment = found.segment
    if scope.attribute is not None and segment.get(scope.attribute) != scope.value:
        return False
    if group != "all" and found.row.score not in SCORE_GROUPS[found.row.metric][group]:
        return False
    return not search or search.casefold() in found.row.text.casefold()


def comments(
    viewer: Viewer,
    asked: Scope,
    period: Period,
    catalogue: Catalogue,
    read: ReadComments,
    *,
    survey_id: str | None = None,
    group: str = "all",
    search: str = "",
) -> CommentsPage:
    """The newest comments of the period in the viewer's allowed scope, by survey, score group
    and text. Days are read newest first, each survey's at most COMMENTS_READ_PER_DAY, the page
    at most COMMENTS_READ, so the items read do not grow with the responses stored; the page
    says when it stopped before the period's start."""
    scope = allowed_scope(viewer, asked)
    if group not in GROUP_NAMES:
        raise ValueError("unknown score group")
    if len(search) > MAX_SEARCH:
        raise ValueError("the search is too long")
    surveys = [s for s in catalogue.surveys if survey_id in (None, s.id)]
    if survey_id is not None and not surveys:
        raise ValueError("unknown survey")
    found: list[FoundComment] = []
    count, complete = 0, True
    for back in range(period.days):
        if len(found) >= COMMENTS_SHOWN or count >= COMMENTS_READ:
            complete = False  # older days not read
            break
        day = (period.last_day - timedelta(days=back)).isoformat()
        for survey in surveys:
            limit = min(COMMENTS_READ_PER_DAY, COMMENTS_READ - count)
            if limit <= 0:
                complete = False
                break
            batch = list(read(survey.id, day, limit))
            count += len(batch)
            complete = complete and len(batch) < limit
            found += [c for c in batch if _wanted(c, scope, group, search.strip())]
    found.sort(key=lambda c: c.answered_at, reverse=True)
    return CommentsPage(found[:COMMENTS_SHOWN], count, complete and len(found) <= COMMENTS_SHOWN)


def comments_filter(
    base: OverviewFilter,
    survey_id: str | None,
    group: str,
    search: str,
    language: str,
    catalogue: Catalogue,
) -> CommentsFilter:
    """The comments page's filter form: the overview's, a survey and a score group."""
    surveys = [Choice("", text(language, "results_survey_all"), survey_id is None)]
    surveys += [
        Choice(s.id, catalogue.names.survey(language, s.id), s.id == survey_id)
        for s in catalogue.surveys
    ]
    groups = [Choice(g, text(language, m), g == group) for g, m in GROUP_NAMES.items()]
    return CommentsFilter(base=base, surveys=surveys, groups=groups, search=search)


# A cell that a spreadsheet would read as a formula (or a command, in old ones): kept as text
# with a leading apostrophe (OWASP's advice for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_ATTRIBUTES = ("businessArea", "touchpoint")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def comments_csv(page: CommentsPage, language: str, catalogue: Catalogue) -> bytes:
    """The comments as CSV for a spreadsheet (UTF-8 with a BOM, so Excel reads ä and å): the
    headers and the names in the page's language, the texts on one line and never formulas."""
    words = Localizer(language, catalogue.names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            words.text("xlsx_date"),
            words.text("report_survey"),
            words.text("report_metric"),
            words.text("report_score"),
            *(words.attribute(a) for a in CSV_ATTRIBUTES),
            words.text("xlsx_comment"),
        ]
    )
    for found in page.comments:
        row = found.row
        values = [
            words.value(a, found.segment[a]) if a in found.segment else "" for a in CSV_ATTRIBUTES
        ]
        writer.writerow(
            [
                row.answered_on,
                _cell(words.survey(row.survey_id)),
                words.metric(row.metric),
                str(row.score),
                *(_cell(v) for v in values),
                _cell(one_line(row.text)),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
