"""The results view's segments, follow-up queue, task outcome and "my feedback" use cases
(logic/results.py): pure, with in-memory reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.access import Role, access
from survey_core.catalogue import load_catalogue
from survey_core.logic.results import (
    MAX_NOTE,
    QUEUE_READ_PER_SURVEY,
    CallbackTask,
    NotAllowed,
    OutOfScope,
    RecordedOutcome,
    TaskNotFound,
    Viewer,
    clean_note,
    follow_up_queue,
    my_feedback,
    overview,
    overview_filter,
    record_outcome,
    segment_attributes,
    segment_filter,
    segment_tables,
    task_in_view,
)
from survey_core.report.config import Period, Scope
from survey_core.report.content import CounterRow

from tests.unit.test_results import WEEK, Reads, no_comments, no_overdue

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def viewer(role: str, scope: str | None = None) -> Viewer:
    return Viewer(Role(role), access(Role(role), scope))


ADMIN = viewer("cx-admin")
WEBSHOP_MANAGER = viewer("manager", "business_area=webshop")
AGENT = viewer("agent", "agent=a-17")


def task(key: str, due_hours: float | None, area: str = "webshop", agent: str = "a-17") -> Any:
    made = NOW - timedelta(hours=30)
    return CallbackTask(
        invitation_id=key * 32,
        survey_id="post-purchase",
        metric="nps",
        score=3,
        segment={"businessArea": area, "agentId": agent},
        created_at=made,
        due_at=None if due_hours is None else NOW + timedelta(hours=due_hours),
        reached_at=None,
        outcome="open",
        sla="open",
    )


class OpenTasks:
    def __init__(self, tasks: list[CallbackTask]) -> None:
        self.tasks = tasks
        self.limits: list[int] = []

    def __call__(self, survey_id: str, limit: int) -> Iterable[CallbackTask]:
        self.limits.append(limit)
        found = [t for t in self.tasks if t.survey_id == survey_id]
        return sorted(found, key=lambda t: t.due_at or datetime.max.replace(tzinfo=UTC))[:limit]


# ---------------------------------------------------------------- segments


def test_segment_tables_group_the_reports_rows_and_a_click_filters_only_an_open_scope() -> None:
    catalogue = load_catalogue()
    data = overview(
        ADMIN, Scope(None, None), WEEK, "en", catalogue,
        read=Reads(), comments=no_comments, overdue=no_overdue, now=NOW,
    )  # fmt: skip
    tables = segment_tables(data)
    assert tables and sum(len(t.rows) for t in tables) == len(data.segments)
    for table in tables:
        assert {(r.survey_id, r.metric, r.attribute) for r in table.rows} == {
            (table.survey_id, table.metric, table.attribute)
        }
    only = segment_tables(data, "businessArea")
    assert only and all(t.attribute == "businessArea" for t in only)
    row = only[0].rows[0]
    assert segment_filter(ADMIN, row) == Scope("businessArea", row.value)
    assert segment_filter(WEBSHOP_MANAGER, row) is None
    assert "businessArea" not in segment_attributes(catalogue, Scope("businessArea", "webshop"))


def test_a_clicked_segment_is_the_filter_forms_selected_scope() -> None:
    catalogue = load_catalogue()
    clicked = Scope("agentId", "a-17")
    form = overview_filter(ADMIN, "week", WEEK, clicked, "en", catalogue, "/results")
    [selected] = [c for c in form.scopes if c.selected]
    assert selected.value == "agentId=a-17"


# ---------------------------------------------------------------- the queue


def test_the_queue_is_overdue_first_within_the_scope_and_bounded() -> None:
    tasks = [
        task("1", 5),
        task("2", -20),  # the most overdue
        task("3", -1),
        task("4", None),  # no SLA: last
        task("5", -30, area="store", agent="a-18"),  # another area
    ]
    reads = OpenTasks(tasks)
    page = follow_up_queue(WEBSHOP_MANAGER, Scope(None, None), load_catalogue(), reads, NOW)
    assert [r.task.invitation_id[0] for r in page.rows] == ["2", "3", "1", "4"]
    assert [r.overdue for r in page.rows] == [True, True, False, False]
    assert page.rows[0].age_hours == pytest.approx(30)
    assert set(reads.limits) == {QUEUE_READ_PER_SURVEY} and page.complete
    everything = follow_up_queue(ADMIN, Scope(None, None), load_catalogue(), reads, NOW)
    assert everything.rows[0].task.invitation_id[0] == "5"
    with pytest.raises(OutOfScope):
        follow_up_queue(
            WEBSHOP_MANAGER, Scope("businessArea", "store"), load_catalogue(), reads, NOW
        )


def test_the_queue_says_when_it_did_not_read_every_open_task() -> None:
    many = [replace(task("1", h), invitation_id=f"{h:032d}") for h in range(-300, 0)]
    page = follow_up_queue(ADMIN, Scope(None, None), load_catalogue(), OpenTasks(many), NOW)
    assert page.read == QUEUE_READ_PER_SURVEY and not page.complete


def test_a_tasks_state_follows_connects_events() -> None:
    open_task = task("1", 5)
    assert open_task.state == "waiting"
    assert replace(open_task, reached_at=NOW).state == "with_agent"
    assert replace(open_task, outcome="not_reached").state == "not_reached"


# ---------------------------------------------------------------- outcomes


class Saved:
    def __init__(self, exists: bool = True) -> None:
        self.saved: list[RecordedOutcome] = []
        self.exists = exists

    def __call__(self, recorded: RecordedOutcome) -> bool:
        self.saved.append(recorded)
        return self.exists


def _get(tasks: list[CallbackTask]) -> Any:
    return lambda key: next((t for t in tasks if t.invitation_id == key), None)


def test_a_manager_records_an_outcome_in_their_scope_only() -> None:
    own, others = task("1", 5), task("2", 5, area="store", agent="a-18")
    get, saved = _get([own, others]), Saved()
    recorded = record_outcome(
        WEBSHOP_MANAGER, own.invitation_id, "resolved", " Soitettu\r\nhyvitys \x07",
        get=get, save=saved, now=NOW, by="sub-1",
    )  # fmt: skip
    assert recorded.note == "Soitettu\nhyvitys" and saved.saved == [recorded]
    with pytest.raises(TaskNotFound):  # another area's task is not found
        record_outcome(
            WEBSHOP_MANAGER, others.invitation_id, "resolved", "",
            get=get, save=saved, now=NOW, by="sub-1",
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        record_outcome(
            AGENT, own.invitation_id, "resolved", "", get=get, save=saved, now=NOW, by="sub-2"
        )
    with pytest.raises(ValueError, match="outcome"):
        record_outcome(
            WEBSHOP_MANAGER, own.invitation_id, "deleted", "",
            get=get, save=saved, now=NOW, by="sub-1",
        )  # fmt: skip
    assert len(saved.saved) == 1  # nothing refused was saved
    with pytest.raises(TaskNotFound):  # gone meanwhile
        record_outcome(
            WEBSHOP_MANAGER, own.invitation_id, "resolved", "",
            get=get, save=Saved(exists=False), now=NOW, by="sub-1",
        )  # fmt: skip


def test_a_note_is_at_most_its_length_and_never_cut() -> None:
    assert clean_note("a" * MAX_NOTE) == "a" * MAX_NOTE
    with pytest.raises(ValueError):
        clean_note("a" * (MAX_NOTE + 1))


def test_an_agent_sees_their_own_tasks_only() -> None:
    own, others = task("1", 5), task("2", 5, agent="a-18")
    get = _get([own, others])
    assert task_in_view(AGENT, own.invitation_id, get) == own
    with pytest.raises(TaskNotFound):
        task_in_view(AGENT, others.invitation_id, get)


# ---------------------------------------------------------------- my feedback


class AgentReads:
    """post-purchase NPS: agent a-17's answers (its scoped series) and the whole survey's."""

    def __init__(self) -> None:
        monday = date(2026, 11, 16)
        self.rows = {
            "post-purchase#nps": [
                CounterRow(monday - timedelta(weeks=w), "all", {10: 20, 9: 10, 3: 10}, {})
                for w in range(4)
            ],
            "post-purchase#nps@agentId=a-17": [
                CounterRow(monday - timedelta(weeks=w), "all", {10: 50, 2: 50}, {})
                for w in range(4)
            ],
        }
        self.asked: list[str] = []

    def __call__(self, series: str, first: date, last: date) -> Iterable[CounterRow]:
        self.asked.append(series)
        return [r for r in self.rows.get(series, []) if first <= r.day <= last]


def test_an_agents_page_has_their_trend_and_the_teams_over_the_same_periods() -> None:
    reads = AgentReads()
    mine = my_feedback(
        AGENT, WEEK, "en", load_catalogue(),
        read=reads, comments=no_comments, overdue=no_overdue, now=NOW,
    )  # fmt: skip
    assert mine.data.trend_survey == "post-purchase" and mine.data.trend_metric == "nps"
    assert [p.label for p in mine.team] == [p.label for p in mine.data.trend]
    shown = [p for p in mine.team if p.value is not None]
    assert shown and all(p.value == pytest.approx(50.0) for p in shown)  # (30 - 10) / 40
    own = [p for p in mine.data.trend if p.value is not None]
    assert own and all(p.value == pytest.approx(0.0) for p in own)  # (50 - 50) / 100
    # the agent's own numbers come from their scope's series; the team's only as a trend
    assert "post-purchase#nps@agentId=a-17" in reads.asked
    assert all("agentId=" in s or s == "post-purchase#nps" for s in reads.asked)


def test_my_feedback_is_only_an_agents_page() -> None:
    with pytest.raises(NotAllowed):
        my_feedback(
            WEBSHOP_MANAGER, WEEK, "en", load_catalogue(),
            read=AgentReads(), comments=no_comments, overdue=no_overdue, now=NOW,
        )  # fmt: skip


def test_an_agent_without_answers_has_no_team_trend_either() -> None:
    mine = my_feedback(
        AGENT, Period(date(2025, 1, 6), date(2025, 1, 12)), "en", load_catalogue(),
        read=AgentReads(), comments=no_comments, overdue=no_overdue, now=NOW,
    )  # fmt: skip
    assert mine.team == [] and mine.data.trend == []
