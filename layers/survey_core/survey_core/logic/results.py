"""The results view's overview: every survey's numbers for one viewer's scope and a chosen
period, made by the report's own code from the same counters, so a page and the report say
the same for the same scope and period (DESIGN 5c).

Pure: the counters, the comments and the overdue tasks come in as functions (the reads
the report shares: logic/reads.counter_rows, recent_comments, overdue_tasks), so every rule
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
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from msgspec import Struct
from msgspec.structs import replace

from ..access import Role, ScopeKind
from ..access import Scope as Access
from ..catalogue import Catalogue
from ..messages.i18n import text
from ..messages.localizer import Localizer
from ..messages.results_pages import Choice, CommentsFilter, NavLink, OverviewFilter
from ..messages.safe_text import one_line
from ..report.chart import Reference
from ..report.config import Period, ReportGroup, Scope, trend_periods
from ..report.content import CounterRows, build_report_data, trend_points
from ..report.model import CommentRow, ReportData, SegmentRow, TrendPoint
from .reads import CallbackTask, FoundComment, ReadComments, RecordedOutcome

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


# The pages in the view's bar, per role: an agent's own feedback first, a manager's overview.
PAGES = {
    "mine": ("/mine", "results_nav_mine"),
    "overview": ("", "results_nav_overview"),
    "segments": ("/segments", "results_nav_segments"),
    "comments": ("/comments", "results_nav_comments"),
    "follow-up": ("/follow-up", "results_nav_follow_up"),
}
AGENT_PAGES = ("mine", "segments", "comments", "follow-up")
MANAGER_PAGES = ("overview", "segments", "comments", "follow-up")


def nav_links(viewer: Viewer, base_url: str, shared_query: str = "") -> list[NavLink]:
    """The bar's links for the viewer's role, each with the filter shown (shared_query: "" or
    "?period=...&scope=..."), so a filter holds on every page."""
    pages = AGENT_PAGES if viewer.role is Role.AGENT else MANAGER_PAGES
    return [
        NavLink(page, f"{base_url}{PAGES[page][0]}{shared_query}", PAGES[page][1]) for page in pages
    ]


class OutOfScope(Exception):
    """A request for data outside the viewer's scope (the page answers 403 and shows none)."""


class InvalidPeriod(ValueError):
    """A period that cannot be shown: reversed, in the future, too long, or unknown."""


class Viewer(Struct, frozen=True):
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
        if not any(choice.selected for choice in scopes):  # e.g. a segment chosen by a click
            label = names.scope(language, scope.attribute, scope.value)
            scopes.append(Choice(scope_value(scope), label, True))
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


class CommentsPage(Struct, frozen=True):
    comments: list[FoundComment]
    read: int  # responses read for the page
    complete: bool  # False: the bounded read stopped before the period's oldest comment


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
    groups = [Choice(g, text(language, m), g == group) for g, m in GROUP_NAMES.items()]
    surveys = survey_choices(survey_id, language, catalogue)
    return CommentsFilter(base=base, surveys=surveys, groups=groups, search=search)


def survey_choices(survey_id: str | None, language: str, catalogue: Catalogue) -> list[Choice]:
    """A survey filter's choices: every survey, or one (by its name in the language)."""
    surveys = [Choice("", text(language, "results_survey_all"), survey_id is None)]
    surveys += [
        Choice(s.id, catalogue.names.survey(language, s.id), s.id == survey_id)
        for s in catalogue.surveys
    ]
    return surveys


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


# ---------------------------------------------------------------- segments


class SegmentTable(Struct, frozen=True):
    """One survey x metric broken down by one attribute: the report's segment rows, in the
    report's order (set apart first, then no clear difference, then too few answers)."""

    survey_id: str
    metric: str
    attribute: str
    rows: list[SegmentRow]


def segment_attributes(catalogue: Catalogue, scope: Scope) -> list[str]:
    """The attributes the surveys break down by (their report segments), the scope's own left
    out (a business area's page does not break down by business area)."""
    found = dict.fromkeys(a for s in catalogue.surveys for a in s.report_segments)
    return [a for a in found if a != scope.attribute]


def segment_tables(data: ReportData, attribute: str | None = None) -> list[SegmentTable]:
    """The overview's segment rows grouped per survey, metric and attribute (one attribute
    only when given)."""
    tables: dict[tuple[str, str, str], list[SegmentRow]] = {}
    for row in data.segments:
        if attribute in (None, row.attribute):
            tables.setdefault((row.survey_id, row.metric, row.attribute), []).append(row)
    return [SegmentTable(*key, rows) for key, rows in tables.items()]


def segment_filter(viewer: Viewer, row: SegmentRow) -> Scope | None:
    """The scope a click on a segment row filters every page to: that segment, for a viewer
    who sees everything; None for a viewer whose scope is fixed (the counters keep one
    segment attribute per scope, so a scope is not narrowed further)."""
    if viewer.scope.attribute is not None:
        return None
    return Scope(row.attribute, row.value)


# ---------------------------------------------------------------- follow-up queue

QUEUE_READ_PER_SURVEY = 200  # open tasks read per survey at most, earliest deadline first
QUEUE_SHOWN = 100
# What a manager records after following up a callback (besides Connect's own outcome).
FOLLOW_UP_OUTCOMES = ("resolved", "unresolved", "no_action", "not_reached")
MAX_NOTE = 500


class QueueRow(Struct, frozen=True):
    task: CallbackTask
    age_hours: float | None  # since the task was made
    overdue: bool


class QueuePage(Struct, frozen=True):
    rows: list[QueueRow]
    read: int
    complete: bool  # False: more open tasks than read or shown


# A survey's open tasks, earliest deadline first, at most `limit` (by_open_due).
ReadOpenTasks = Callable[[str, int], Iterable[CallbackTask]]


def _in_view(scope: Scope, segment: Mapping[str, str]) -> bool:
    return scope.attribute is None or segment.get(scope.attribute) == scope.value


def follow_up_queue(
    viewer: Viewer,
    asked: Scope,
    catalogue: Catalogue,
    read: ReadOpenTasks,
    now: datetime,
    *,
    survey_id: str | None = None,
) -> QueuePage:
    """The open callback tasks in the viewer's allowed scope, overdue first (the earliest
    deadline first: the most overdue on top), each with its age and state. Reads at most
    QUEUE_READ_PER_SURVEY tasks per survey, whatever is stored."""
    scope = allowed_scope(viewer, asked)
    surveys = [s for s in catalogue.surveys if survey_id in (None, s.id)]
    if survey_id is not None and not surveys:
        raise ValueError("unknown survey")
    rows: list[QueueRow] = []
    count, complete = 0, True
    for survey in surveys:
        batch = list(read(survey.id, QUEUE_READ_PER_SURVEY))
        count += len(batch)
        complete = complete and len(batch) < QUEUE_READ_PER_SURVEY
        for task in batch:
            if not _in_view(scope, task.segment):
                continue
            age = (now - task.created_at).total_seconds() / 3600 if task.created_at else None
            overdue = task.due_at is not None and task.due_at <= now
            rows.append(QueueRow(task, age, overdue))
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.task.due_at or far, r.task.invitation_id))
    return QueuePage(rows[:QUEUE_SHOWN], count, complete and len(rows) <= QUEUE_SHOWN)


class TaskNotFound(LookupError):
    """No such task in the viewer's scope (one outside it is not found either: the page does
    not tell that it exists)."""


class NotAllowed(Exception):
    """The viewer's role may not do this (an agent recording a manager's outcome)."""


GetTask = Callable[[str], CallbackTask | None]


def task_in_view(viewer: Viewer, invitation_id: str, get: GetTask) -> CallbackTask:
    task = get(invitation_id)
    if task is None or not _in_view(viewer.scope, task.segment):
        raise TaskNotFound(invitation_id)
    return task


def can_record(viewer: Viewer) -> bool:
    return viewer.role in (Role.CX_ADMIN, Role.MANAGER)


# Stores the outcome; False when the task is gone (expired meanwhile).
SaveOutcome = Callable[[RecordedOutcome], bool]


def clean_note(raw: str) -> str:
    """The note as stored: lines kept, other control characters dropped, trimmed, at most
    MAX_NOTE characters (a longer one is refused, not cut)."""
    text_ = "".join(c for c in raw.replace("\r\n", "\n") if c == "\n" or c.isprintable())
    text_ = text_.strip()
    if len(text_) > MAX_NOTE:
        raise ValueError(f"a note is at most {MAX_NOTE} characters")
    return text_


def record_outcome(
    viewer: Viewer,
    invitation_id: str,
    outcome: str,
    note: str,
    *,
    get: GetTask,
    save: SaveOutcome,
    now: datetime,
    by: str,
) -> RecordedOutcome:
    """A manager's (or cx-admin's) outcome and note for a task in their scope. Raises
    NotAllowed for an agent, TaskNotFound outside the scope, ValueError for a bad outcome or
    note."""
    if not can_record(viewer):
        raise NotAllowed("only managers record outcomes")
    task_in_view(viewer, invitation_id, get)
    if outcome not in FOLLOW_UP_OUTCOMES:
        raise ValueError("unknown outcome")
    recorded = RecordedOutcome(invitation_id, outcome, clean_note(note), now, by)
    if not save(recorded):
        raise TaskNotFound(invitation_id)
    return recorded


# ---------------------------------------------------------------- my feedback (agents)


class MyFeedback(Struct, frozen=True):
    """An agent's own results (their scope) and their trend against the team's: the same
    survey and metric over every answer of that survey (all agents together; no other agent
    singled out)."""

    data: ReportData
    team: list[TrendPoint]  # same periods as data.trend; empty when the agent has no trend

    @property
    def reference(self) -> Reference | None:
        """The team's trend as the chart's second series, named in the page's language."""
        if not self.team:
            return None
        language = self.data.language
        return Reference(
            label=text(language, "results_team"),
            own_label=text(language, "results_you"),
            points=self.team,
        )


def my_feedback(
    viewer: Viewer,
    period: Period,
    language: str,
    catalogue: Catalogue,
    *,
    read: CounterRows,
    comments: Comments,
    overdue: Overdue,
    now: datetime,
    zone: ZoneInfo = UTC_ZONE,
) -> MyFeedback:
    """Only for an agent (others have the overview): their figures and newest comments, and
    the team's trend."""
    if viewer.role is not Role.AGENT:
        raise NotAllowed("my feedback is an agent's page")
    data = overview(
        viewer, viewer.scope, period, language, catalogue,
        read=read, comments=comments, overdue=overdue, now=now, zone=zone,
    )  # fmt: skip
    data = replace(data, title=text(language, "results_nav_mine"))
    team: list[TrendPoint] = []
    if data.trend_survey:
        periods = trend_periods(period)
        series = f"{data.trend_survey}#{data.trend_metric}"
        rows = list(read(series, periods[0].first_day, period.last_day))
        team = trend_points(rows, periods, data.trend_metric, _cadence(period))
    return MyFeedback(data, team)
