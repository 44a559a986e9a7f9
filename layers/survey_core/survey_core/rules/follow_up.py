"""How the team followed up a callback task, from Amazon Connect's contact events. Pure: no AWS.

Connect publishes contact events best effort, unordered and sometimes more than once; a
transfer or a re-queue ends one contact and starts a new one in the same chain (its
`initialContactId` is the chain's first contact, its `previousContactId` the one it came from).
So the record keeps, per contact of the chain, the moments its events reported (`Contact`),
and everything else is derived from that whole map (`follow_up`): any order and any repetition
of the same events gives the same record.

The two shapes Connect has used are both read: the current one (`agentInfo.agentArn`,
`instanceArn`) and the older capitalised one of AWS's earlier samples (`AgentInfo.AgentArn`,
`CustomerVoiceActivity`, `instanceARN`, channel `Task`): keys and the channel are matched
without regard to case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

# The moments of one contact, in the order they happen.
MOMENTS = ("initiated_at", "connected_at", "disconnected_at", "completed_at")
# Event types of the contact events data model (docs: "Amazon Connect contact events"). Each
# carries the contact's ids and the timestamps known so far; any of them can teach us a moment
# an earlier, lost event would have. A type not listed here is not understood (and counted).
EVENT_TYPES = frozenset(
    {
        "INITIATED",
        "CONNECTED_TO_SYSTEM",
        "QUEUED",
        "CONNECTED_TO_AGENT",
        "DISCONNECTED",
        "COMPLETED",
        "CONTACT_DATA_UPDATED",
        "AMD_DISABLED",
    }
)
TASK_CHANNEL = "task"
# The disconnect reason Connect's contact records give a task that expired unassigned. Contact
# events are not documented to carry a reason; one that does is believed, else the time decides.
EXPIRED_REASON = "EXPIRED"
DEFAULT_TASK_EXPIRY_DAYS = 7  # Connect's default; an instance may be set up to 90
# Our clock reads the creation time just before StartTaskContact; Connect's own timestamps of
# the task come after it. A timestamp more than this before the creation is no moment of it.
CLOCK_TOLERANCE = timedelta(seconds=60)
MAX_CONTACTS = 100  # a chain longer than this is a flow re-queuing in a loop: refuse more

OUTCOMES = ("open", "completed", "not_reached", "expired")
REFUSALS = ("before_creation", "moved", "too_many_contacts")


# ---------------------------------------------------------------- reading one event


class ContactEvent(Struct, frozen=True):
    """What one contact event says, in one shape whichever casing it came in."""

    event_type: str
    contact_id: str
    initial_contact_id: str | None
    previous_contact_id: str | None
    moments: Mapping[str, datetime]  # moment name -> time, only those the event reports
    disconnect_reason: str | None = None

    def candidate_ids(self) -> list[str]:
        """Contact ids that may name one of our tasks' contacts, most specific first."""
        ids = [self.contact_id, self.initial_contact_id, self.previous_contact_id]
        return list(dict.fromkeys(i for i in ids if i))


class NotUnderstood(ValueError):
    """The event cannot be read as a task's contact event; the message says why (no data)."""


def _get(mapping: Any, name: str) -> Any:
    """mapping[name] with the key matched without regard to case (agentInfo / AgentInfo)."""
    if not isinstance(mapping, Mapping):
        return None
    if name in mapping:
        return mapping[name]
    folded = name.casefold()
    for key, value in mapping.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def parse_time(value: Any) -> datetime:
    """An ISO 8601 timestamp as Connect writes them ("2026-11-17T08:12:00.000Z"); one without a
    zone is UTC (the data model says every timestamp is UTC)."""
    if not isinstance(value, str):
        raise NotUnderstood("timestamp is not a string")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise NotUnderstood("unparsable timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _optional_time(value: Any) -> datetime | None:
    return None if value is None or value == "" else parse_time(value)


def _disconnect_reason(detail: Mapping[str, Any]) -> str | None:
    reason = _get(detail, "disconnectReason")
    if isinstance(reason, Mapping):  # the API's shape: {"Code": "..."}
        reason = _get(reason, "code")
    return _text(reason)


def parse_contact_event(event: Mapping[str, Any]) -> ContactEvent:
    """Read an EventBridge "Amazon Connect Contact Event"; NotUnderstood when it is not a task's
    contact event this code can read (never guessed: it is counted instead)."""
    detail = _get(event, "detail")
    if not isinstance(detail, Mapping):
        raise NotUnderstood("no detail")
    event_type = (_text(_get(detail, "eventType")) or "").upper()
    if event_type not in EVENT_TYPES:
        raise NotUnderstood("unknown eventType" if event_type else "no eventType")
    contact_id = _text(_get(detail, "contactId"))
    if contact_id is None:
        raise NotUnderstood("no contactId")
    channel = _text(_get(detail, "channel"))
    if channel is None or channel.casefold() != TASK_CHANNEL:
        raise NotUnderstood("not a task")
    return ContactEvent(
        event_type=event_type,
        contact_id=contact_id,
        initial_contact_id=_text(_get(detail, "initialContactId")),
        previous_contact_id=_text(_get(detail, "previousContactId")),
        moments=_moments(event_type, detail, _get(event, "time")),
        disconnect_reason=_disconnect_reason(detail),
    )


# The moment an event type is about, and where else than the event's time it may stand.
OWN_MOMENT = {
    "INITIATED": "initiated_at",
    "CONNECTED_TO_AGENT": "connected_at",
    "DISCONNECTED": "disconnected_at",
    "COMPLETED": "completed_at",
}


def _moments(event_type: str, detail: Mapping[str, Any], event_time: Any) -> dict[str, datetime]:
    """Every moment the event reports: its own, and those it carries of earlier ones (a
    DISCONNECTED tells when an agent connected, should that event have been lost)."""
    agent = _get(detail, "agentInfo")
    reported: dict[str, datetime | None] = {
        "initiated_at": _optional_time(_get(detail, "initiationTimestamp")),
        "connected_at": _optional_time(_get(agent, "connectedToAgentTimestamp")),
        "disconnected_at": _optional_time(_get(detail, "disconnectTimestamp")),
        # After contact work ends the contact; without it COMPLETED comes right after
        # DISCONNECTED, with the same data.
        "completed_at": (
            _optional_time(_get(agent, "afterContactWorkEndTimestamp"))
            or _optional_time(_get(detail, "disconnectTimestamp"))
            if event_type == "COMPLETED"
            else None
        ),
    }
    own = OWN_MOMENT.get(event_type)
    if own is not None and reported[own] is None:
        # Only then the envelope's time (EventBridge's, when Connect published it) is read.
        if event_time is None or event_time == "":
            raise NotUnderstood("no time for its moment")
        reported[own] = parse_time(event_time)
    return {name: at for name, at in reported.items() if at is not None}


# ---------------------------------------------------------------- the chain's record


class Contact(Struct, frozen=True):
    """One contact of the task's chain, as its events reported it (each moment once)."""

    previous: str | None = None  # the contact it was transferred or re-queued from
    initiated_at: datetime | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    completed_at: datetime | None = None
    disconnect_reason: str | None = None

    @property
    def ended_at(self) -> datetime | None:
        return earliest([self.disconnected_at, self.completed_at])


def earliest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


class Merged(Struct, frozen=True):
    contacts: dict[str, Contact]
    refused: list[str] = field(default_factory=list)  # one reason per refused timestamp
    changed: bool = False
    new_contact: str | None = None  # the event's contact, first seen now


def _previous_of(event: ContactEvent, root: str) -> str | None:
    if event.contact_id == root:
        return None  # our task is the chain's first contact
    if event.previous_contact_id and event.previous_contact_id != event.contact_id:
        return event.previous_contact_id
    if event.initial_contact_id and event.initial_contact_id != event.contact_id:
        return event.initial_contact_id  # a later contact of the chain: it hangs under the root
    return None


def merge(
    contacts: Mapping[str, Contact], root: str, event: ContactEvent, created_at: datetime
) -> Merged:
    """Add what the event reports to the chain. A moment is stored once: a repeat with the same
    time changes nothing, a different time for a stored moment is refused ("moved"), as is a
    time before the task was created ("before_creation")."""
    found = dict(contacts)
    current = found.get(event.contact_id)
    if current is None and len(found) >= MAX_CONTACTS:
        return Merged(found, ["too_many_contacts"] * max(1, len(event.moments)))
    contact = current or Contact()
    refused: list[str] = []
    updates: dict[str, Any] = {}
    for name in MOMENTS:
        at = event.moments.get(name)
        if at is None:
            continue
        at = _to_second(at)
        stored = getattr(contact, name)
        if at < created_at - CLOCK_TOLERANCE:
            refused.append("before_creation")
        elif stored is None:
            updates[name] = at
        elif stored != at:
            refused.append("moved")
    previous = _previous_of(event, root)
    if contact.previous is None and previous is not None:
        updates["previous"] = previous
    # A disconnect reason belongs to the disconnect it came with: kept only with that time.
    disconnect = event.moments.get("disconnected_at")
    believed = "disconnected_at" in updates or (
        disconnect is not None and contact.disconnected_at == _to_second(disconnect)
    )
    if contact.disconnect_reason is None and event.disconnect_reason and believed:
        updates["disconnect_reason"] = event.disconnect_reason
    if not updates:  # a repeat, or nothing believable: the record stays as it is
        return Merged(found, refused)
    found[event.contact_id] = replace(contact, **updates)
    return Merged(found, refused, True, event.contact_id if current is None else None)


def _to_second(moment: datetime) -> datetime:
    """Stored to the second (the record's timestamps are ISO to the second)."""
    return moment.astimezone(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- the verdict


class FollowUp(Struct, frozen=True):
    """What the chain says so far; the same whatever order its events came in."""

    outcome: str  # open | completed | not_reached | expired
    sla: str  # open | met | missed
    reached_at: datetime | None  # an agent first connected, anywhere in the chain
    seconds_to_agent: int | None  # from the task's creation to reached_at
    done_at: datetime | None  # the chain's last contact ended
    due_at: datetime  # the SLA deadline: creation + sla_hours


def _expired(contact: Contact, started: datetime, expiry: timedelta) -> bool:
    """Ended by Connect's task expiry: a disconnect reason EXPIRED if the event carried a
    reason, else ended with no agent on it at or after its expiry time."""
    ended = contact.ended_at
    if ended is None or contact.connected_at is not None:
        return False
    if contact.disconnect_reason is not None:
        return contact.disconnect_reason.upper() == EXPIRED_REASON
    return ended >= (contact.initiated_at or started) + expiry


def follow_up(
    escalated_at: datetime,
    sla_hours: int,
    root: str,
    contacts: Mapping[str, Contact],
    expiry_days: int = DEFAULT_TASK_EXPIRY_DAYS,
) -> FollowUp:
    """The outcome of the whole chain.

    The task has ended when every last contact of its chain (one no other contact came from)
    has ended; a contact that was transferred is not a last one, so its DISCONNECTED ends
    nothing. A contact named only as another's previous one counts as part of the chain.
    Outcome: `expired` when a last contact ran out Connect's task expiry without an agent on
    it; else `completed` when an agent connected anywhere in the chain; else `not_reached`.
    The SLA is met only when completed within sla_hours of the creation; every other ended
    outcome misses it. Time to agent runs from the creation to the first agent connection.
    """
    due_at = escalated_at + timedelta(hours=sla_hours)
    reached_at = earliest(c.connected_at for c in contacts.values())
    to_agent = (
        None if reached_at is None else max(0, int((reached_at - escalated_at).total_seconds()))
    )
    known = dict(contacts)
    referenced = {c.previous for c in known.values() if c.previous}
    for name in referenced | {root}:
        known.setdefault(name, Contact())
    last = [known[name] for name in sorted(known) if name not in referenced]
    ends = [c.ended_at for c in last]
    if not last or any(end is None for end in ends):
        return FollowUp("open", "open", reached_at, to_agent, None, due_at)
    done_at = max(end for end in ends if end is not None)
    expiry = timedelta(days=expiry_days)
    if any(_expired(c, escalated_at, expiry) for c in last):
        outcome = "expired"
    elif reached_at is not None:
        outcome = "completed"
    else:
        outcome = "not_reached"
    met = outcome == "completed" and done_at <= due_at
    return FollowUp(outcome, "met" if met else "missed", reached_at, to_agent, done_at, due_at)


def counted(result: FollowUp) -> dict[str, int]:
    """What one task adds to its day's escalation counters in this state (besides `created`,
    counted when the task was made). Counters move by the difference between two states."""
    counts: dict[str, int] = {}
    if result.outcome != "open":
        counts["done"] = 1
        counts[result.outcome] = 1
        counts[f"sla_{result.sla}"] = 1
    if result.seconds_to_agent is not None:
        counts["reached"] = 1
        counts["to_agent_seconds"] = result.seconds_to_agent
    return counts


def counter_moves(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    moves = {name: after.get(name, 0) - before.get(name, 0) for name in {*before, *after}}
    return {name: amount for name, amount in sorted(moves.items()) if amount}
