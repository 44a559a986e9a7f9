"""The local stack's Amazon Connect contact events: what it publishes for a task, a transfer
and the older capitalised shape is what the FollowUp rule matches and the follow-up reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern
from samtranslator.yaml_helper import yaml_parse
from survey_core.rules.follow_up import Contact, follow_up, merge, parse_contact_event

from infra.local.adapter import LocalAdapter
from infra.local.emulation.events import as_delivered

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = "00000000-0000-4000-8000-000000000001"
CREATED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


class _Events:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> None:
        self.entries += Entries


def _adapter() -> tuple[LocalAdapter, _Events]:
    adapter = LocalAdapter("eu-north-1", 1.0)
    adapter.clock = lambda: CREATED
    events = _Events()
    adapter.client = lambda service: events  # type: ignore[method-assign]
    return adapter, events


def _as_delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """The PutEvents entry as EventBridge hands it to a rule's target."""
    return {
        "version": "0",
        "id": "local",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": entry["Time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-north-1",
        "resources": entry["Resources"],
        "detail": json.loads(entry["Detail"]),
    }


def _rule() -> EventPattern:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    follow = template["Resources"]["FollowUpFunction"]["Properties"]["Events"]
    pattern = follow["TaskContactEvents"]["Properties"]["Pattern"]
    arn = f"arn:aws:connect:eu-north-1:123456789012:instance/{INSTANCE}"
    pattern["detail"]["$or"] = [{key: [arn]} for key in ("instanceArn", "instanceARN")]
    return EventPattern.load(json.dumps(pattern))


def _task(adapter: LocalAdapter) -> str:
    body = json.dumps({"InstanceId": INSTANCE, "ContactFlowId": "flow", "Name": "Callback"})
    status, answer = adapter.connect.request("PUT", "/contact/task", body.encode())
    assert status == 200
    return str(answer["ContactId"])


def test_a_transfer_and_the_older_shape_reach_the_follow_up_as_connect_would_send_them() -> None:
    # Given a task on the local stack
    adapter, events = _adapter()
    task = _task(adapter)
    # When an agent takes it (older shape), transfers it, and the new contact is taken and closed
    adapter.connect.contact_event(
        task, "CONNECTED_TO_AGENT", "2026-11-16T11:00:00.000Z", shape="older"
    )
    moved = adapter.connect.transfer_contact(task, "2026-11-16T12:00:00.000Z")
    new = moved["contactId"]
    adapter.connect.contact_event(new, "CONNECTED_TO_AGENT", "2026-11-16T13:00:00.000Z")
    adapter.connect.contact_event(new, "DISCONNECTED", "2026-11-16T14:00:00.000Z")
    delivered = [_as_delivered(e) for e in events.entries]
    # Then the transfer is a new contact of the same chain, and the first one's DISCONNECTED
    assert (moved["initialContactId"], moved["previousContactId"]) == (task, task)
    types = [(e["detail"]["contactId"], e["detail"]["eventType"]) for e in delivered]
    assert types == [
        (task, "CONNECTED_TO_AGENT"),
        (new, "INITIATED"),
        (task, "DISCONNECTED"),
        (new, "CONNECTED_TO_AGENT"),
        (new, "DISCONNECTED"),
    ]
    older = delivered[0]["detail"]
    assert "AgentInfo" in older and "instanceARN" in older and older["channel"] == "Task"
    # the first contact's DISCONNECTED carries its agent, as Connect's later events do
    assert delivered[2]["detail"]["agentInfo"]["connectedToAgentTimestamp"] == (
        "2026-11-16T11:00:00.000Z"
    )
    # and every event passes the template's rule, and the follow-up reads the chain as completed
    rule = _rule()
    assert all(rule.matches_event(e) for e in delivered)
    contacts: dict[str, Contact] = {}
    for raw in delivered:
        contacts = merge(contacts, task, parse_contact_event(raw), CREATED).contacts
    result = follow_up(CREATED, 48, task, contacts)
    assert (result.outcome, result.sla, result.seconds_to_agent) == ("completed", "met", 3600)


def test_an_expired_task_can_be_emulated() -> None:
    adapter, events = _adapter()
    task = _task(adapter)
    adapter.connect.contact_event(
        task, "DISCONNECTED", "2026-11-18T10:00:00.000Z", disconnect_reason="EXPIRED"
    )
    [raw] = [_as_delivered(e) for e in events.entries]
    contacts = merge({}, task, parse_contact_event(raw), CREATED).contacts
    assert follow_up(CREATED, 48, task, contacts).outcome == "expired"


def test_an_unknown_contact_cannot_be_transferred() -> None:
    adapter, _ = _adapter()
    with pytest.raises(KeyError):
        adapter.connect.transfer_contact("nobody", None)


def test_targets_get_the_event_time_as_aws_sends_it() -> None:
    # moto keeps an event's time as Unix seconds; EventBridge hands targets ISO 8601
    assert as_delivered({"time": 1763287200.0})["time"] == "2025-11-16T10:00:00Z"
    assert as_delivered({"time": "1763287200"})["time"] == "2025-11-16T10:00:00Z"
    assert as_delivered({"time": "2026-11-16T10:00:00Z"})["time"] == "2026-11-16T10:00:00Z"
