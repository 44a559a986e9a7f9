"""The bounded reads the manager report and the results view share, and their ports' types:
counters per day and segment, recent comments, callback tasks and their recorded outcomes.
Apart from both use cases, so neither function loads the other's code (the results view no
report email, the report no results pages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta

from msgspec import Struct

from ..catalogue import Catalogue, Survey
from ..domain.counters import SCORE_NAMES, Counters
from ..domain.escalations import Escalation, Escalations, OpenTask, moment
from ..domain.responses import Comment, Responses
from ..report.config import Period, ReportGroup
from ..report.content import CounterRow
from ..report.model import CommentRow
from ..rules.escalation import escalation_reasons, keyword_match
from .counting import counter_view, split_scope

COMMENTS_SHOWN = 5
COMMENTS_READ_PER_DAY = 25  # a scoped report's bounded read of comments per day


class FoundComment(Struct, frozen=True):
    answered_at: str  # ISO instant: newest first
    row: CommentRow
    segment: Mapping[str, str]
    invitation_id: str = ""
    escalated: bool = False  # the survey's rule made this answer a callback task


# A survey's commented responses of one day, newest first, at most `limit` (domain/responses).
ReadComments = Callable[[str, str, int], Iterable[FoundComment]]


class CallbackTask(Struct, frozen=True):
    """A callback task as the results view shows it (dal's escalation, without Connect's
    bookkeeping)."""

    invitation_id: str
    survey_id: str
    metric: str
    score: int
    segment: Mapping[str, str]
    created_at: datetime | None  # the task was made (the SLA clock starts); None: not yet
    due_at: datetime | None  # the SLA deadline; None: no SLA
    reached_at: datetime | None  # an agent first connected
    outcome: str  # open | completed | not_reached | expired (from Connect's contact events)
    sla: str | None  # open | met | missed
    recorded_outcome: str | None = None  # a manager's FOLLOW_UP_OUTCOMES
    note: str | None = None
    recorded_at: datetime | None = None

    @property
    def state(self) -> str:
        """waiting (no agent yet), with_agent, or Connect's outcome once ended."""
        if self.outcome != "open":
            return self.outcome
        return "with_agent" if self.reached_at is not None else "waiting"


class RecordedOutcome(Struct, frozen=True):
    invitation_id: str
    outcome: str
    note: str
    recorded_at: datetime
    recorded_by: str  # the user's Cognito sub: never their email


def counter_rows(
    series: str, first: date, last: date, *, counters: Counters
) -> Iterable[CounterRow]:
    """The counters of a series (or of a scope of it: "...@businessArea=webshop") per day and
    segment key, summed from the day's combinations: one Query for the whole span."""
    base, attribute, value = split_scope(series)
    records = (
        (counter.day, counter.segment, counter.counts)
        for counter in counters.read(base, first.isoformat(), last.isoformat())
    )
    for day, key, counts in counter_view(records, attribute, value):
        histogram = {int(name[1:]): n for name, n in counts.items() if name in SCORE_NAMES and n}
        others = {name: n for name, n in counts.items() if name not in SCORE_NAMES and n}
        yield CounterRow(date.fromisoformat(day), key, histogram, others)


def _in_scope(group: ReportGroup, segment: dict[str, object]) -> bool:
    scope = group.scope
    return scope.attribute is None or segment.get(scope.attribute) == scope.value


def recent_comments(
    group: ReportGroup,
    period: Period,
    catalogue: Catalogue,
    responses: Responses,
    shown: int = COMMENTS_SHOWN,
) -> list[CommentRow]:
    """The newest comments of the period in the group's scope, at most `shown`. Days are read
    newest first and reading stops once enough are found; a whole-scope report reads only as
    many as it shows, a scoped one at most COMMENTS_READ_PER_DAY a day. Either way the
    items read do not grow with the number of responses."""
    found: list[tuple[str, CommentRow]] = []
    for back in range(period.days):
        day = (period.last_day - timedelta(days=back)).isoformat()
        for survey in catalogue.surveys:
            missing = shown - len(found)
            limit = COMMENTS_READ_PER_DAY if group.scope.attribute else max(missing, 1)
            for comment in responses.recent_comments(survey.id, day, limit):
                if _in_scope(group, comment.segment):
                    found.append((comment.answered_at, _comment_row(survey, comment)))
        if len(found) >= shown:
            break  # older days hold older comments
    found.sort(key=lambda item: item[0], reverse=True)
    return [row for _, row in found[:shown]]


def comment_reader(catalogue: Catalogue, responses: Responses) -> ReadComments:
    """The results view's comments port: a survey's commented responses of one day, newest
    first, at most `limit` read (the responses table's by_comment_day index)."""

    def read(survey_id: str, day: str, limit: int) -> Iterator[FoundComment]:
        survey = catalogue.find(survey_id)
        if survey is None:
            return
        rule = survey.escalation
        for comment in responses.recent_comments(survey_id, day, limit):
            matched = keyword_match(rule, comment.comment)
            escalated = bool(escalation_reasons(rule, comment.scores, matched))
            row = _comment_row(survey, comment)
            yield FoundComment(
                comment.answered_at, row, comment.segment, comment.invitation_id, escalated
            )

    return read


def _task(escalation: Escalation) -> CallbackTask:
    return CallbackTask(
        invitation_id=escalation.invitation_id,
        survey_id=escalation.survey_id,
        metric=escalation.metric,
        score=escalation.score,
        segment=escalation.segment,
        created_at=moment(escalation.escalated_at),
        due_at=escalation.due_at,
        reached_at=moment(escalation.reached_at),
        outcome=escalation.outcome or "open",
        sla=escalation.sla,
        recorded_outcome=escalation.recorded_outcome,
        note=escalation.recorded_note,
        recorded_at=moment(escalation.recorded_at),
    )


def _open_task(task: OpenTask) -> CallbackTask:
    return CallbackTask(
        invitation_id=task.invitation_id,
        survey_id=task.survey_id,
        metric=task.metric,
        score=task.score,
        segment=task.segment,
        created_at=moment(task.escalated_at),
        due_at=task.due_at,
        reached_at=moment(task.reached_at),
        outcome="open",
        sla="open",
    )


def open_task_reader(
    survey_id: str, limit: int, *, escalations: Escalations
) -> Iterator[CallbackTask]:
    """The results view's queue port: a survey's open tasks, earliest deadline first."""
    return (_open_task(task) for task in escalations.open_tasks(survey_id, limit))


def get_task(invitation_id: str, *, escalations: Escalations) -> CallbackTask | None:
    """One task (a chain contact's link item is none)."""
    escalation = escalations.get(invitation_id)
    return _task(escalation) if escalation is not None else None


def save_outcome(recorded: RecordedOutcome, *, escalations: Escalations) -> bool:
    return escalations.record_outcome(
        recorded.invitation_id,
        recorded.outcome,
        recorded.note,
        recorded.recorded_by,
        recorded.recorded_at,
    )


def _comment_row(survey: Survey, comment: Comment) -> CommentRow:
    scores = comment.scores
    metric = next((m for m in survey.metrics if m in scores), next(iter(scores)))
    return CommentRow(comment.answered_at[:10], survey.id, metric, scores[metric], comment.comment)


def overdue_tasks(
    group: ReportGroup,
    period: Period,
    catalogue: Catalogue,
    as_of: datetime,
    *,
    escalations: Escalations,
) -> int:
    """The period's callback tasks in the group's scope still open after their SLA deadline at
    `as_of`: one Query of by_open_due per survey, reading only the open tasks whose deadline
    has passed since the period began (so bounded by the overdue open tasks, not by all)."""
    since = datetime.combine(period.first_day - timedelta(days=1), time.min, tzinfo=UTC)
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    found = 0
    for survey in catalogue.surveys:
        for task in escalations.overdue_tasks(survey.id, since, as_of):
            if first <= (task.counted_day or "") <= last and _in_scope(group, task.segment):
                found += 1
    return found
