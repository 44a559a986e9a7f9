"""SLA verdicts of callback tasks from Amazon Connect contact events: the event-sequence table.

Each case of CASES is a sequence of contact events of one task (created Monday 10:00 UTC, SLA
48 h) and the verdict it must give: outcome, SLA, seconds to the first agent, refused
timestamps. Unless a case says otherwise, every order of its events, and every event twice,
gives the same verdict and the same stored chain. The README reports len(CASES).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from survey_core.rules.follow_up import (
    Contact,
    FollowUp,
    NotUnderstood,
    counted,
    counter_moves,
    follow_up,
    merge,
    parse_contact_event,
)

from tests.connect_events import contact_event

pytestmark = pytest.mark.unit

CREATED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
SLA_HOURS = 48
ROOT = "task-1"
HOUR = 3600


def event(event_type: str, hours: float, contact: str = ROOT, **kwargs: Any) -> dict[str, Any]:
    return contact_event(event_type, hours, contact, created=CREATED, root=ROOT, **kwargs)


@dataclass(frozen=True)
class Case:
    name: str
    events: list[dict[str, Any]]
    verdict: tuple[str, str, int | None]  # outcome, SLA, seconds to the first agent
    refused: list[str] = field(default_factory=list)
    expiry_days: int = 7
    any_order: bool = True  # False: two events disagree on a moment; the first one stays


C2, C3 = "task-1-transfer", "task-1-transfer-2"

CASES = [
    # ---- the task's own contact
    Case("nothing but the start", [event("INITIATED", 0)], ("open", "open", None)),
    Case(
        "an agent takes it and closes it in time",
        [
            event("INITIATED", 0),
            event("CONNECTED_TO_AGENT", 2),
            event("DISCONNECTED", 30, agent_at=2),
            event("COMPLETED", 30, agent_at=2, acw_end=30.5),
        ],
        ("completed", "met", 2 * HOUR),
    ),
    Case(
        "an agent takes it, still working",
        [event("INITIATED", 0), event("CONNECTED_TO_AGENT", 2)],
        ("open", "open", 2 * HOUR),
    ),
    Case(
        "closed exactly at the deadline",
        [event("CONNECTED_TO_AGENT", 47), event("DISCONNECTED", 48, agent_at=47)],
        ("completed", "met", 47 * HOUR),
    ),
    Case(
        "closed after the deadline",
        [event("CONNECTED_TO_AGENT", 2), event("DISCONNECTED", 49, agent_at=2)],
        ("completed", "missed", 2 * HOUR),
    ),
    Case(
        "taken late and closed late",
        [event("CONNECTED_TO_AGENT", 50), event("DISCONNECTED", 51, agent_at=50)],
        ("completed", "missed", 50 * HOUR),
    ),
    Case(
        "COMPLETED after contact work is the only end seen",
        [event("CONNECTED_TO_AGENT", 2), event("COMPLETED", 3, agent_at=2, acw_end=3.5)],
        ("completed", "met", 2 * HOUR),
    ),
    Case(
        "the CONNECTED_TO_AGENT event is lost: DISCONNECTED carries the connection",
        [event("INITIATED", 0), event("DISCONNECTED", 5, agent_at=2)],
        ("completed", "met", 2 * HOUR),
    ),
    # ---- nobody reached
    Case(
        "a flow disconnects it before any agent",
        [event("INITIATED", 0), event("DISCONNECTED", 5)],
        ("not_reached", "missed", None),
    ),
    Case(
        "disconnected and completed without an agent",
        [event("DISCONNECTED", 5), event("COMPLETED", 5)],
        ("not_reached", "missed", None),
    ),
    Case(
        "ended unassigned a second before the expiry",
        [event("INITIATED", 0), event("DISCONNECTED", 7 * 24 - 1 / 3600)],
        ("not_reached", "missed", None),
    ),
    Case(
        "a reason other than EXPIRED, after the expiry time",
        [event("DISCONNECTED", 7 * 24 + 2, reason="CONTACT_FLOW_DISCONNECT")],
        ("not_reached", "missed", None),
    ),
    # ---- expired
    Case(
        "Connect's 7-day expiry ends it unassigned",
        [event("INITIATED", 0), event("DISCONNECTED", 7 * 24), event("COMPLETED", 7 * 24)],
        ("expired", "missed", None),
    ),
    Case(
        "the event says EXPIRED",
        [event("INITIATED", 0), event("DISCONNECTED", 100, reason="EXPIRED")],
        ("expired", "missed", None),
    ),
    Case(
        "an instance with a 3-day expiry",
        [event("DISCONNECTED", 3 * 24 + 1)],
        ("expired", "missed", None),
        expiry_days=3,
    ),
    Case(
        "a 90-day expiry: 7 days unassigned is not yet expired, but ended by a flow",
        [event("DISCONNECTED", 7 * 24 + 1)],
        ("not_reached", "missed", None),
        expiry_days=90,
    ),
    # ---- transfers and re-queues
    Case(
        "transferred by the agent; the new contact is closed in time",
        [
            event("CONNECTED_TO_AGENT", 1),
            event("DISCONNECTED", 2, agent_at=1),
            event("INITIATED", 2, C2, previous=ROOT),
            event("CONNECTED_TO_AGENT", 3, C2, previous=ROOT),
            event("DISCONNECTED", 20, C2, previous=ROOT, agent_at=3),
        ],
        ("completed", "met", 1 * HOUR),
    ),
    Case(
        "the transfer's DISCONNECTED does not end the task",
        [
            event("CONNECTED_TO_AGENT", 1),
            event("DISCONNECTED", 2, agent_at=1),
            event("INITIATED", 2, C2, previous=ROOT),
        ],
        ("open", "open", 1 * HOUR),
    ),
    Case(
        "re-queued before anyone took it, then taken",
        [
            event("DISCONNECTED", 1),
            event("INITIATED", 1, C2, previous=ROOT),
            event("CONNECTED_TO_AGENT", 5, C2, previous=ROOT),
            event("DISCONNECTED", 6, C2, previous=ROOT, agent_at=5),
        ],
        ("completed", "met", 5 * HOUR),
    ),
    Case(
        "re-queued, then nobody before the expiry",
        [
            event("DISCONNECTED", 1),
            event("INITIATED", 1, C2, previous=ROOT),
            event("DISCONNECTED", 1 + 7 * 24, C2, previous=ROOT),
        ],
        ("expired", "missed", None),
    ),
    Case(
        "re-queued, then ended by a flow without an agent",
        [
            event("DISCONNECTED", 1),
            event("INITIATED", 1, C2, previous=ROOT),
            event("DISCONNECTED", 9, C2, previous=ROOT),
        ],
        ("not_reached", "missed", None),
    ),
    Case(
        "an agent hands it on and the new contact expires unassigned",
        [
            event("CONNECTED_TO_AGENT", 1),
            event("DISCONNECTED", 2, agent_at=1),
            event("INITIATED", 2, C2, previous=ROOT),
            event("DISCONNECTED", 2 + 7 * 24, C2, previous=ROOT, reason="EXPIRED"),
        ],
        ("expired", "missed", 1 * HOUR),
    ),
    Case(
        "two transfers; the last contact closes late",
        [
            event("DISCONNECTED", 1),
            event("INITIATED", 1, C2, previous=ROOT),
            event("CONNECTED_TO_AGENT", 4, C2, previous=ROOT),
            event("DISCONNECTED", 5, C2, previous=ROOT, agent_at=4),
            event("INITIATED", 5, C3, previous=C2),
            event("DISCONNECTED", 50, C3, previous=C2),
        ],
        ("completed", "missed", 4 * HOUR),
    ),
    Case(
        "the middle contact of two transfers is never seen",
        [
            event("CONNECTED_TO_AGENT", 1),
            event("DISCONNECTED", 2, agent_at=1),
            event("CONNECTED_TO_AGENT", 6, C3, previous=C2),
            event("DISCONNECTED", 7, C3, previous=C2, agent_at=6),
        ],
        ("completed", "met", 1 * HOUR),
    ),
    Case(
        "the new contact's events lack previousContactId: it hangs under the first",
        [
            event("CONNECTED_TO_AGENT", 1),
            event("DISCONNECTED", 2, agent_at=1),
            event("INITIATED", 2, C2),
        ],
        ("open", "open", 1 * HOUR),
    ),
    # ---- both casings
    Case(
        "the older capitalised shape",
        [
            event("CONNECTED_TO_AGENT", 2, legacy=True),
            event("DISCONNECTED", 30, agent_at=2, legacy=True),
        ],
        ("completed", "met", 2 * HOUR),
    ),
    Case(
        "both shapes mixed, with a transfer",
        [
            event("CONNECTED_TO_AGENT", 1, legacy=True),
            event("DISCONNECTED", 2, agent_at=1),
            event("INITIATED", 2, C2, previous=ROOT, legacy=True),
            event("DISCONNECTED", 3, C2, previous=ROOT),
        ],
        ("completed", "met", 1 * HOUR),
    ),
    # ---- refused timestamps
    Case(
        "a connection before the task existed is refused",
        [event("CONNECTED_TO_AGENT", -2), event("DISCONNECTED", 5)],
        ("not_reached", "missed", None),
        refused=["before_creation"],
    ),
    Case(
        "a repeated DISCONNECTED with another time is refused; the first stays",
        [
            event("CONNECTED_TO_AGENT", 2),
            event("DISCONNECTED", 30, agent_at=2),
            event("DISCONNECTED", 49, agent_at=2),
        ],
        ("completed", "met", 2 * HOUR),
        refused=["moved"],
        any_order=False,
    ),
]


def run(events: list[dict[str, Any]], expiry_days: int = 7) -> tuple[FollowUp, dict, list]:
    contacts: dict[str, Contact] = {}
    refused: list[str] = []
    for raw in events:
        merged = merge(contacts, ROOT, parse_contact_event(raw), CREATED)
        contacts, refused = merged.contacts, refused + merged.refused
    return follow_up(CREATED, SLA_HOURS, ROOT, contacts, expiry_days), contacts, refused


def _orders(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Every order (all permutations up to six events), and every event delivered twice."""
    orders = [list(p) for p in itertools.permutations(events)] if len(events) <= 6 else []
    doubled = events + events
    random.Random(len(events)).shuffle(doubled)
    return [*orders, list(reversed(events)), doubled]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_verdict_of_each_event_sequence(case: Case) -> None:
    # Given the case's events in the order listed
    result, contacts, refused = run(case.events, case.expiry_days)
    # Then the verdict is the table's
    assert (result.outcome, result.sla, result.seconds_to_agent) == case.verdict
    assert refused == case.refused
    if case.verdict[1] == "open":
        assert result.done_at is None
    if not case.any_order:
        return
    # and every other order, and every event twice, ends in the same record
    for order in _orders(case.events):
        again, again_contacts, _ = run(order, case.expiry_days)
        assert again == result, [e["id"] for e in order]
        assert again_contacts == contacts


def test_the_table_covers_every_outcome_and_the_shapes_it_must() -> None:
    outcomes = {c.verdict[:2] for c in CASES}
    assert outcomes >= {
        ("open", "open"),
        ("completed", "met"),
        ("completed", "missed"),
        ("not_reached", "missed"),
        ("expired", "missed"),
    }
    details = [e["detail"] for c in CASES for e in c.events]
    assert any("previousContactId" in d for d in details)  # transfers
    assert any("AgentInfo" in d for d in details)  # the older casing
    assert {r for c in CASES for r in c.refused} == {"before_creation", "moved"}


def test_a_task_disconnected_without_any_agent_never_meets_its_sla() -> None:
    # Given a task a flow disconnected ten minutes after it was made, no agent anywhere
    result, _, _ = run([event("DISCONNECTED", 1 / 6)])
    # Then it is not reached, and the SLA is missed (it was "met" before this rule)
    ended = CREATED + timedelta(minutes=10)
    assert (result.outcome, result.sla, result.done_at) == ("not_reached", "missed", ended)


def test_an_exact_repeat_changes_nothing() -> None:
    contacts = run([event("CONNECTED_TO_AGENT", 2)])[1]
    merged = merge(contacts, ROOT, parse_contact_event(event("CONNECTED_TO_AGENT", 2)), CREATED)
    assert (merged.changed, merged.refused, merged.contacts) == (False, [], contacts)


def test_a_new_contact_of_the_chain_is_reported_once() -> None:
    first = merge({}, ROOT, parse_contact_event(event("INITIATED", 2, C2, previous=ROOT)), CREATED)
    assert first.new_contact == C2 and first.contacts[C2].previous == ROOT
    again = merge(first.contacts, ROOT, parse_contact_event(event("QUEUED", 2, C2)), CREATED)
    assert again.new_contact is None


def _broken(change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    raw = event("DISCONNECTED", 5)
    raw["detail"].update(change)
    if drop:
        raw["detail"].pop(drop)
    return raw


NOT_UNDERSTOOD = [
    ("no contactId", _broken({}, drop="contactId")),
    ("no eventType", _broken({}, drop="eventType")),
    ("unknown eventType", _broken({"eventType": "TELEPORTED"})),
    ("not a task", _broken({"channel": "VOICE"})),
    ("not a task", _broken({}, drop="channel")),
    ("unparsable timestamp", _broken({"disconnectTimestamp": "yesterday"})),
    ("timestamp is not a string", _broken({"disconnectTimestamp": 1763287200})),
    ("no detail", {"detail-type": "Amazon Connect Contact Event", "detail": "DISCONNECTED"}),
]


@pytest.mark.parametrize(("reason", "raw"), NOT_UNDERSTOOD, ids=[r for r, _ in NOT_UNDERSTOOD])
def test_events_that_cannot_be_read_say_why(reason: str, raw: dict[str, Any]) -> None:
    with pytest.raises(NotUnderstood) as error:
        parse_contact_event(raw)
    assert str(error.value) == reason


def test_the_envelope_time_is_read_only_when_the_event_has_no_time_of_its_own() -> None:
    # Given a DISCONNECTED with its disconnectTimestamp, and an envelope time that is no text
    raw = event("DISCONNECTED", 5)
    raw["time"] = 1763287200.0
    # Then the event's own time is used; without it the envelope's cannot stand in
    assert parse_contact_event(raw).moments["disconnected_at"] == CREATED + timedelta(hours=5)
    del raw["detail"]["disconnectTimestamp"]
    with pytest.raises(NotUnderstood, match="timestamp is not a string"):
        parse_contact_event(raw)


def test_both_casings_read_the_same() -> None:
    current = parse_contact_event(event("DISCONNECTED", 30, agent_at=2))
    legacy = parse_contact_event(event("DISCONNECTED", 30, agent_at=2, legacy=True))
    assert current.moments == legacy.moments
    assert current.moments["connected_at"] == CREATED + timedelta(hours=2)


@pytest.mark.parametrize(
    ("before", "after", "moves"),
    [
        ("open", "met", {"done": 1, "completed": 1, "sla_met": 1, "reached": 1,
                         "to_agent_seconds": 7200}),
        ("met", "missed", {"sla_met": -1, "sla_missed": 1}),
        # a transfer's DISCONNECTED was seen first; the new contact reopens the task
        ("not_reached", "open", {"done": -1, "not_reached": -1, "sla_missed": -1}),
        ("open", "open", {}),
    ],
)  # fmt: skip
def test_counters_move_by_the_difference_between_two_states(
    before: str, after: str, moves: dict[str, int]
) -> None:
    due = CREATED + timedelta(hours=SLA_HOURS)
    agent = CREATED + timedelta(hours=2)
    states = {
        "open": FollowUp("open", "open", None, None, None, due),
        "met": FollowUp("completed", "met", agent, 7200, agent, due),
        "missed": FollowUp("completed", "missed", agent, 7200, due + timedelta(hours=1), due),
        "not_reached": FollowUp("not_reached", "missed", None, None, agent, due),
    }
    assert counter_moves(counted(states[before]), counted(states[after])) == moves
