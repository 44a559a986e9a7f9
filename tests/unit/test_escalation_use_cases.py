"""A low score becomes one callback task, and Connect's contact events its follow-up
(logic/escalate.py, logic/follow_up.py), on the in-memory repositories: no moto. The same paths
on the template's tables, with Connect's requests checked against its model:
tests/integration/test_escalate.py and test_follow_up.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from survey_core.catalogue import load_catalogue
from survey_core.config import EscalateConfig
from survey_core.domain.invitations import Invitation
from survey_core.domain.repositories import Repositories
from survey_core.domain.responses import Answer
from survey_core.logic.escalate import EscalatePorts, escalate
from survey_core.logic.follow_up import ContactEventResult, record_contact_event
from survey_core.logic.reads import RecordedOutcome, get_task, overdue_tasks, save_outcome
from survey_core.report.config import Period, load_groups

from tests.conftest import example_event
from tests.connect_events import contact_event
from tests.gateways import FakeBus, FakeContactCenter, FakeNotifier
from tests.repositories import MemoryCounters, MemoryEscalations, memory_repositories
from tests.unit.test_trigger_use_case import ENVIRONMENT

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki: business hours
CONFIG = EscalateConfig.from_env(
    {
        **ENVIRONMENT,
        "LOCAL_CLOCK": f"{NOW.isoformat()}|0|0",
        "CONNECT_INSTANCE_ID": "00000000-0000-4000-8000-000000000001",
        "CONNECT_CONTACT_FLOW_ID": "00000000-0000-4000-8000-000000000002",
        "ESCALATION_TOPIC_ARN": "arn:aws:sns:eu-north-1:123456789012:team",
    }
)
CATALOGUE = load_catalogue()
INVITATION = "5d41402abc4b2a76b9719d911017c592"  # the example event's
SEGMENT = {"businessArea": "webshop", "touchpoint": "checkout"}
SLA = timedelta(hours=48)  # post-purchase's rule


@dataclass
class World:
    repos: Repositories
    ports: EscalatePorts
    connect: FakeContactCenter
    bus: FakeBus
    notifier: FakeNotifier

    @property
    def escalations(self) -> MemoryEscalations:
        assert isinstance(self.repos.escalations, MemoryEscalations)
        return self.repos.escalations

    def counted(self) -> dict[str, int]:
        counters = self.repos.counters
        assert isinstance(counters, MemoryCounters)
        total: dict[str, int] = {}
        for (series, _), counts in counters.added.items():
            if series == "post-purchase#escalations":
                for name, n in counts.items():
                    total[name] = total.get(name, 0) + n
        return {name: n for name, n in total.items() if n}

    def answer(self, scores: dict[str, int], comment: str | None = None) -> dict[str, Any]:
        """Store the customer's answer (or a change of it) and return its event."""
        invitations = self.repos.invitations
        invitation = invitations.get(INVITATION)
        if invitation is None:
            invitation = Invitation(
                INVITATION, "post-purchase", "cust-0001", metric="nps", metrics=["nps"],
                segment=SEGMENT, status="sent",
            )  # fmt: skip
            invitations.create(invitation)
        stored = self.repos.responses.store_answer(
            invitation,
            Answer(scores, comment, False, "web", NOW, "2026-11-16", NOW + timedelta(days=730)),
        )
        event = example_event("survey-response-received.json")
        event["detail"].update(
            scores=scores, segment=SEGMENT, revision=stored.response.revision,
            hasComment=bool(comment),
        )  # fmt: skip
        return event

    def escalate(self, event: dict[str, Any]) -> str:
        return escalate(event, CONFIG, CATALOGUE, self.ports).outcome

    def contact(
        self, event_type: str, hours: float, contact: str = "contact-1", **more: Any
    ) -> ContactEventResult:
        raw = contact_event(event_type, hours, contact, created=NOW, root="contact-1", **more)
        return record_contact_event(raw, NOW, CONFIG.task_expiry_days, self.repos.escalations)


@pytest.fixture
def world() -> World:
    repos = memory_repositories()
    connect, bus, notifier = FakeContactCenter(), FakeBus(), FakeNotifier()
    ports = EscalatePorts(connect, bus, repos.responses, repos.escalations, notifier)  # type: ignore[arg-type]
    return World(repos, ports, connect, bus, notifier)


def test_a_detractor_gets_one_task_counted_and_announced_once(world: World) -> None:
    event = world.answer({"nps": 3})
    assert world.escalate(event) == "created"
    assert world.escalate(event) == "already-created"  # a duplicate delivery
    assert len(world.connect.started) == 1
    [request] = world.connect.started
    assert request["client_token"] == f"escalation-{INVITATION}"
    assert request["scheduled_time"] is None  # in business hours: at once
    assert "NPS 3" in request["name"] and "No comment." in request["description"]
    task = world.repos.escalations.get(INVITATION)
    assert task is not None
    assert (task.contact_id, task.outcome, task.reasons) == ("contact-1", "open", ["nps 3 <= 6"])
    assert task.due_at == NOW + SLA
    assert world.counted() == {"created": 1}
    [announced] = world.bus.of_type("Survey Escalated")
    assert (announced["contactId"], announced["reason"]) == ("contact-1", "nps 3 <= 6")
    assert len(world.notifier.notes) == 1 and "cust-0001" not in world.notifier.notes[0][1]


def test_a_satisfied_customer_gets_no_task(world: World) -> None:
    assert world.escalate(world.answer({"nps": 9})) == "not-escalated"
    assert world.connect.started == [] and world.repos.escalations.get(INVITATION) is None
    assert world.bus.events == [] and world.counted() == {}


def test_a_crash_after_connect_took_the_task_makes_no_second_task(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = world.answer({"nps": 2})

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the function died")

    monkeypatch.setattr(world.escalations, "record_task", crash)
    with pytest.raises(RuntimeError):
        world.escalate(event)
    monkeypatch.undo()
    # Lambda's retry: Connect returns the same contact for the same client token
    assert world.escalate(event) == "created"
    assert {r["client_token"] for r in world.connect.started} == {f"escalation-{INVITATION}"}
    assert len(set(world.connect.by_token.values())) == 1
    assert world.counted() == {"created": 1} and len(world.bus.of_type("Survey Escalated")) == 1


def test_an_announcement_that_failed_is_made_on_the_retry(world: World) -> None:
    event = world.answer({"nps": 2})
    failing = FakeBus()
    failing.put = _raise  # type: ignore[method-assign]
    ports = EscalatePorts(world.connect, failing, world.repos.responses, world.escalations)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        escalate(event, CONFIG, CATALOGUE, ports)
    assert world.escalate(event) == "already-created"
    assert len(world.connect.started) == 1 and len(world.bus.of_type("Survey Escalated")) == 1
    assert world.escalate(event) == "already-created"
    assert len(world.bus.of_type("Survey Escalated")) == 1  # remembered: not announced again


def _raise(*args: object) -> None:
    raise ConnectionError("EventBridge is down")


def test_a_comment_written_after_the_score_reaches_the_agent_on_the_task(world: World) -> None:
    world.escalate(world.answer({"nps": 3}))
    later = world.answer({"nps": 3}, "Toimitus myöhästyi viikon")
    assert world.escalate(later) == "updated"
    [update] = world.connect.updated
    assert update["contact_id"] == "contact-1"
    assert "Comment: Toimitus myöhästyi viikon" in update["description"]
    task = world.repos.escalations.get(INVITATION)
    assert task is not None and task.task_revision == 2
    assert world.escalate(later) == "already-created"  # the task shows revision 2 already
    assert len(world.connect.updated) == 1 and world.counted() == {"created": 1}


EVENTS: list[tuple[str, float, dict[str, Any]]] = [
    ("INITIATED", 0, {}),
    ("CONNECTED_TO_AGENT", 2, {}),
    ("DISCONNECTED", 30, {"agent_at": 2}),
    ("COMPLETED", 30, {"agent_at": 2, "acw_end": 30.5}),
]


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 2, 3, 1, 3, 0]])
def test_any_order_and_repetition_of_contact_events_end_in_the_same_follow_up(
    world: World, order: list[int]
) -> None:
    world.escalate(world.answer({"nps": 3}))
    results = [world.contact(EVENTS[i][0], EVENTS[i][1], **EVENTS[i][2]) for i in order]
    task = world.repos.escalations.get(INVITATION)
    assert task is not None
    assert (task.outcome, task.sla, task.seconds_to_agent) == ("completed", "met", 7200)
    assert (task.reached_at, task.done_at) == ("2026-11-16T12:00:00Z", "2026-11-17T16:00:00Z")
    repeats = [i in order[:n] for n, i in enumerate(order)]
    assert all(r.outcome == "repeat" for r, again in zip(results, repeats, strict=True) if again)
    assert world.counted() == {
        "created": 1, "done": 1, "completed": 1, "sla_met": 1, "reached": 1,
        "to_agent_seconds": 7200,
    }  # fmt: skip
    assert list(world.repos.escalations.open_tasks("post-purchase", 10)) == []


def test_a_transfer_is_followed_through_its_link(world: World) -> None:
    world.escalate(world.answer({"nps": 3}))
    world.contact("CONNECTED_TO_AGENT", 1)
    world.contact("DISCONNECTED", 1.5, agent_at=1)
    # The transferred contact names the task's contact as its previous and initial one
    first = world.contact("INITIATED", 1.5, "contact-2", previous="contact-1")
    assert first.outcome == "recorded" and first.follow_up == "open"
    # A later event of the transfer names only itself and the chain's first contact
    done = world.contact("DISCONNECTED", 3, "contact-2", agent_at=2)
    assert (done.outcome, done.follow_up, done.sla) == ("recorded", "completed", "met")
    found = world.repos.escalations.of_contact(["contact-2"])
    assert found is not None and set(found.contacts) == {"contact-1", "contact-2"}


def test_events_of_other_contacts_or_not_understood_change_nothing(world: World) -> None:
    world.escalate(world.answer({"nps": 3}))
    other = contact_event("CONNECTED_TO_AGENT", 1, "someone-else", created=NOW, root="x")
    assert record_contact_event(other, NOW, 7, world.repos.escalations).outcome == "not_ours"
    broken = record_contact_event({"detail": "?"}, NOW, 7, world.repos.escalations)
    assert broken.outcome == "not_understood" and broken.reason
    task = world.repos.escalations.get(INVITATION)
    assert task is not None and task.follow_up_revision is None


def test_a_follow_up_that_lost_a_race_is_derived_again_with_the_winner(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.escalate(world.answer({"nps": 3}))
    original = world.escalations.save_follow_up
    raced: list[ContactEventResult] = []

    def another_event_first(*args: Any, **kwargs: Any) -> bool:
        if not raced:  # another invocation stores the agent's connection in between
            monkeypatch.setattr(world.escalations, "save_follow_up", original)
            raced.append(world.contact("CONNECTED_TO_AGENT", 2))
            monkeypatch.setattr(world.escalations, "save_follow_up", another_event_first)
        return original(*args, **kwargs)

    monkeypatch.setattr(world.escalations, "save_follow_up", another_event_first)
    result = world.contact("DISCONNECTED", 30, agent_at=None)
    assert raced[0].outcome == "recorded" and result.outcome == "recorded"
    task = world.repos.escalations.get(INVITATION)
    assert task is not None and task.follow_up_revision == 2
    assert (task.outcome, task.sla, task.seconds_to_agent) == ("completed", "met", 7200)
    assert world.counted()["done"] == 1


def test_the_results_view_and_the_report_read_the_tasks(world: World) -> None:
    world.escalate(world.answer({"nps": 3}))
    escalations = world.repos.escalations
    shown = get_task(INVITATION, escalations=escalations)
    assert shown is not None and (shown.state, shown.due_at) == ("waiting", NOW + SLA)
    assert get_task(f"{INVITATION}#contact#contact-2", escalations=escalations) is None
    recorded = RecordedOutcome(INVITATION, "resolved", "Soitettu", NOW, "user-sub-1")
    assert save_outcome(recorded, escalations=escalations)
    again = get_task(INVITATION, escalations=escalations)
    assert again is not None and (again.recorded_outcome, again.note) == ("resolved", "Soitettu")
    # The week's report counts the task overdue once its deadline has passed
    group = next(g for g in load_groups() if g.scope.attribute is None)
    week = Period(date(2026, 11, 16), date(2026, 11, 22))

    def overdue(at: datetime) -> int:
        return overdue_tasks(group, week, CATALOGUE, at, escalations=escalations)

    assert (overdue(NOW + SLA), overdue(NOW + SLA + timedelta(seconds=1))) == (0, 1)
