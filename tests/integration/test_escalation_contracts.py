"""The escalations repository's contract, run on the in-memory fake and on DynamoDB (moto):
a callback task claimed once, opened once, followed up under its revision, listed while open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from msgspec.structs import replace
from survey_core.clock import iso
from survey_core.domain.counters import Counts
from survey_core.domain.escalations import Escalation, OpenTask, task_counts
from survey_core.domain.repositories import Repositories
from survey_core.rules.follow_up import Contact, FollowUp

from tests.integration.conftest import Stored

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
SEGMENT = {"businessArea": "webshop"}
DAY = "2026-03-02"


def _claimed(invitation_id: str = "inv-1", score: int = 3, sla_hours: int = 24) -> Escalation:
    return Escalation(
        invitation_id,
        "post-purchase",
        "nps",
        score,
        created_at=iso(T0),
        updated_at=iso(T0),
        reasons=[f"nps {score} <= 6"],
        segment=dict(SEGMENT),
        sla_hours=sla_hours,
        expires_at=T0 + timedelta(days=90),
    )


def _open(repos: Repositories, invitation_id: str = "inv-1", contact: str = "contact-1") -> None:
    repos.escalations.claim(_claimed(invitation_id))
    repos.escalations.record_task(
        invitation_id, contact, T0, None, task_counts("post-purchase", DAY, SEGMENT), 1
    )


def _escalations(day: str = DAY) -> Counts:
    return Counts("post-purchase#escalations", day, SEGMENT, {})


def _done(reached: datetime, done: datetime, outcome: str = "completed") -> FollowUp:
    return FollowUp(outcome, "met", reached, int((reached - T0).total_seconds()), done, T0)


def test_an_escalation_is_claimed_once_and_read_back_whole(repos: Repositories) -> None:
    claimed = repos.escalations.claim(_claimed())
    assert claimed == _claimed()
    # A retried event's claim gets the first one, whatever it says
    assert repos.escalations.claim(_claimed(score=5)) == _claimed()
    assert repos.escalations.get("inv-1") == _claimed()
    assert repos.escalations.get("inv-2") is None


def test_the_task_opens_once_under_its_deadline_and_counts_once(stored: Stored) -> None:
    repos = stored.repos
    _open(repos)
    # A retry after success: another contact id, nothing written, nothing counted again
    repos.escalations.record_task(
        "inv-1",
        "contact-2",
        T0 + timedelta(minutes=1),
        None,
        task_counts("post-purchase", DAY, SEGMENT),
    )
    task = repos.escalations.get("inv-1")
    assert task is not None
    assert (task.contact_id, task.status, task.outcome, task.sla) == (
        "contact-1", "created", "open", "open",
    )  # fmt: skip
    assert (task.escalated_at, task.task_revision, task.counted_day) == (iso(T0), 1, DAY)
    assert task.due_at == T0.replace(microsecond=0) + timedelta(hours=24)
    assert stored.counted(_escalations()) == {"created": 1}
    assert list(repos.escalations.open_tasks("post-purchase", 10)) == [
        OpenTask(
            "inv-1", "post-purchase", "nps", 3, SEGMENT, T0 + timedelta(hours=24), iso(T0), DAY,
            "contact-1",
        )
    ]  # fmt: skip


def test_the_task_shows_a_later_revision_only(repos: Repositories) -> None:
    repos.escalations.claim(_claimed())
    assert not repos.escalations.record_task_revision("inv-1", 2, T0)  # no task yet
    repos.escalations.record_task("inv-1", "contact-1", T0, None, None, 1)
    assert repos.escalations.record_task_revision("inv-1", 2, T0)
    assert not repos.escalations.record_task_revision("inv-1", 2, T0)
    assert not repos.escalations.record_task_revision("inv-1", 1, T0)
    found = repos.escalations.get("inv-1")
    assert found is not None and found.task_revision == 2
    repos.escalations.mark_announced("inv-1", T0)
    announced = repos.escalations.get("inv-1")
    assert announced is not None and announced.announced_at == iso(T0)


def test_a_follow_up_is_saved_on_the_revision_it_was_derived_from(stored: Stored) -> None:
    repos = stored.repos
    _open(repos)
    read = repos.escalations.of_contact(["unknown", "contact-1"])
    assert read is not None and read.invitation_id == "inv-1"
    reached, done = T0 + timedelta(hours=2, microseconds=500), T0 + timedelta(hours=3)
    chain = {
        "contact-1": Contact(initiated_at=T0, connected_at=None, disconnected_at=reached),
        "contact-2": Contact(previous="contact-1", connected_at=reached, completed_at=done),
    }
    counted = {"done": 1, "sla_met": 1}
    saved = repos.escalations.save_follow_up(
        read, chain, _done(reached, done), counted, new_contact="contact-2", now=done
    )
    assert saved
    # Another event derived from the same read lost the race: nothing written
    assert not repos.escalations.save_follow_up(
        read, chain, _done(reached, done, "not_reached"), {}, new_contact=None, now=done
    )
    task = repos.escalations.get("inv-1")
    assert task is not None
    assert (task.outcome, task.sla, task.counted, task.follow_up_revision) == (
        "completed", "met", counted, 1,
    )  # fmt: skip
    assert (task.reached_at, task.done_at) == (iso(reached), iso(done))
    # Moments are kept to the second
    assert task.contacts["contact-2"] == replace(
        chain["contact-2"], connected_at=reached.replace(microsecond=0)
    )
    assert task.contacts["contact-1"].disconnected_at == reached.replace(microsecond=0)
    assert stored.counted(_escalations()) == {"created": 1, "done": 1, "sla_met": 1}
    # Ended: no longer open; the chain's later contact finds the task
    assert list(repos.escalations.open_tasks("post-purchase", 10)) == []
    later = repos.escalations.of_contact(["contact-2"])
    assert later is not None and later.invitation_id == "inv-1"
    assert repos.escalations.get("inv-1#contact#contact-2") is None  # a link is no task
    # A later change moves the counters by the difference only
    assert repos.escalations.save_follow_up(
        task, task.contacts, replace(_done(reached, done), sla="missed"),
        {"done": 1, "sla_missed": 1}, new_contact=None, now=done,
    )  # fmt: skip
    assert stored.counted(_escalations()) == {"created": 1, "done": 1, "sla_missed": 1}


def test_an_open_follow_up_stays_listed_under_its_deadline(repos: Repositories) -> None:
    _open(repos)
    read = repos.escalations.get("inv-1")
    assert read is not None
    due = T0 + timedelta(hours=48)
    still_open = FollowUp("open", "open", None, None, None, due)
    assert repos.escalations.save_follow_up(read, {}, still_open, {}, new_contact=None, now=T0)
    [task] = repos.escalations.open_tasks("post-purchase", 10)
    assert task.due_at == due
    found = repos.escalations.get("inv-1")
    assert found is not None and found.reached_at is None and found.done_at is None


def test_open_tasks_come_earliest_deadline_first_and_overdue_ones_by_their_deadline(
    repos: Repositories,
) -> None:
    for invitation_id, hours in (("inv-1", 24), ("inv-2", 4), ("inv-3", 48)):
        repos.escalations.claim(_claimed(invitation_id, sla_hours=hours))
        repos.escalations.record_task(invitation_id, f"c-{invitation_id}", T0, None)
    assert [t.invitation_id for t in repos.escalations.open_tasks("post-purchase", 2)] == [
        "inv-2", "inv-1",
    ]  # fmt: skip
    assert list(repos.escalations.open_tasks("other-survey", 10)) == []
    deadline = T0.replace(microsecond=0) + timedelta(hours=24)
    overdue = repos.escalations.overdue_tasks
    assert [t.invitation_id for t in overdue("post-purchase", T0, deadline)] == ["inv-2"]
    after = deadline + timedelta(seconds=1)
    assert [t.invitation_id for t in overdue("post-purchase", T0, after)] == ["inv-2", "inv-1"]
    since = T0 + timedelta(hours=5)
    assert [t.invitation_id for t in overdue("post-purchase", since, after)] == ["inv-1"]


def test_a_managers_outcome_is_recorded_on_a_task_only(repos: Repositories) -> None:
    assert not repos.escalations.record_outcome("inv-1", "resolved", "", "user-1", T0)
    _open(repos)
    assert repos.escalations.record_outcome("inv-1", "resolved", "Called back", "user-1", T0)
    later = T0 + timedelta(hours=1)
    assert repos.escalations.record_outcome("inv-1", "no_answer", "", "user-2", later)
    task = repos.escalations.get("inv-1")
    assert task is not None
    assert (task.recorded_outcome, task.recorded_note, task.recorded_at, task.recorded_by) == (
        "no_answer", None, iso(later), "user-2",
    )  # fmt: skip
