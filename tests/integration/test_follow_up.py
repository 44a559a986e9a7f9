"""The follow-up of callback tasks through FollowUpFunction against moto: Amazon Connect's
contact events (transfers, repeats, any order, both casings) on the escalation record, the
refusals and the events that are not ours counted, the counters exact, the open-task index."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.stub import Stubber

from tests.conftest import Deployment
from tests.connect_events import contact_event
from tests.integration.helpers import counters, emf_metrics, lambda_context
from tests.integration.test_escalate import (
    INSTANCE,
    INVITATION,
    MONDAY_NOON,
    _event,
    _store_response,
)

pytestmark = pytest.mark.integration

CREATED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # MONDAY_NOON: the task's creation
TASK = "contact-5"
C2, C3 = "contact-5-transfer", "contact-5-transfer-2"
INSTANCE_ARN = f"arn:aws:connect:eu-north-1:123456789012:instance/{INSTANCE}"


def _task(deployment: Deployment, invitation: str = INVITATION, contact: str = TASK) -> None:
    """A callback task made on Monday 16 Nov 10:00 UTC for a detractor (SLA 48 h)."""
    if invitation == INVITATION:
        _store_response(deployment, None)
    escalate = deployment.load("EscalateFunction", LOCAL_CLOCK=MONDAY_NOON)
    with Stubber(escalate.PORTS.contact_center._connect) as stub:
        stub.add_response("start_task_contact", {"ContactId": contact})
        escalate.lambda_handler(_event({"nps": 3}, invitationId=invitation), lambda_context())


def event(event_type: str, hours: float, contact: str = TASK, **kwargs: Any) -> dict[str, Any]:
    return contact_event(
        event_type,
        hours,
        contact,
        created=CREATED,
        root=TASK,
        instance_arn=INSTANCE_ARN,
        **kwargs,
    )


def _follow(deployment: Deployment, **env: str) -> ModuleType:
    return deployment.load("FollowUpFunction", LOCAL_CLOCK=MONDAY_NOON, **env)


def _send(follow: ModuleType, raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = follow.follow_up_handler(raw, lambda_context())
    return result


def _record(deployment: Deployment, invitation: str = INVITATION) -> dict[str, Any]:
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("EscalationsTable"),
        Key={"invitation_id": {"S": invitation}},
        ConsistentRead=True,
    )["Item"]
    plain = TypeDeserializer()
    return {name: plain.deserialize(value) for name, value in item.items()}


def _counts(deployment: Deployment) -> dict[str, int]:
    return counters(
        deployment.client("dynamodb"),
        deployment.physical_id("AggregatesTable"),
        "post-purchase#escalations",
    )["2026-11-16#all"]


def _open_tasks(deployment: Deployment) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = deployment.client("dynamodb").query(
        TableName=deployment.physical_id("EscalationsTable"),
        IndexName="by_open_due",
        KeyConditionExpression="open_survey = :s",
        ExpressionAttributeValues={":s": {"S": "post-purchase"}},
    )["Items"]
    return items


EVENTS = [
    ("INITIATED", 0, {}),
    ("CONNECTED_TO_AGENT", 2, {}),
    ("DISCONNECTED", 30, {"agent_at": 2}),
    ("COMPLETED", 30, {"agent_at": 2, "acw_end": 30.5}),
]


@pytest.mark.parametrize(
    "order",
    [
        [0, 1, 2, 3],  # in order
        [3, 2, 1, 0],  # reversed
        [2, 0, 2, 3, 1, 3, 0],  # shuffled, with repeats
    ],
    ids=["in-order", "reversed", "repeated"],
)
def test_any_order_and_any_repetition_end_in_the_same_record(
    deployment: Deployment, order: list[int]
) -> None:
    # Given a callback task created on Monday 10:00 UTC with a 48 h SLA
    _task(deployment)
    follow = _follow(deployment)
    # When its contact events arrive in this order
    results = [_send(follow, event(*EVENTS[i][:2], **EVENTS[i][2])) for i in order]
    # Then: completed 2 h after creation, done in 30 h, the SLA met, whatever the order
    record = _record(deployment)
    assert (record["outcome"], record["sla"], record["seconds_to_agent"]) == (
        "completed",
        "met",
        7200,
    )
    assert (record["reached_at"], record["done_at"]) == (
        "2026-11-16T12:00:00Z",
        "2026-11-17T16:00:00Z",
    )
    assert record["contacts"] == {
        TASK: {
            "initiated_at": "2026-11-16T10:00:00Z",
            "connected_at": "2026-11-16T12:00:00Z",
            "disconnected_at": "2026-11-17T16:00:00Z",
            "completed_at": "2026-11-17T16:30:00Z",
        }
    }
    # a repeat changed nothing; the counters moved once, in the record's transactions
    seen_before = [i in order[:n] for n, i in enumerate(order)]
    assert all(r["outcome"] == "repeat" for r, again in zip(results, seen_before) if again)
    assert results[0]["outcome"] == "recorded"
    assert _counts(deployment) == {
        "created": 1, "done": 1, "completed": 1, "sla_met": 1, "reached": 1,
        "to_agent_seconds": 7200,
    }  # fmt: skip
    assert record["counted"] == {k: v for k, v in _counts(deployment).items() if k != "created"}
    # and the ended task left the open-task index
    assert "open_due_at" not in record and _open_tasks(deployment) == []


def test_a_task_disconnected_before_any_agent_is_not_reached_and_misses_its_sla(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a callback task, When a flow disconnects it half an hour later, nobody took it
    _task(deployment)
    result = _send(_follow(deployment), event("DISCONNECTED", 0.5))
    # Then it was not reached: never "SLA met"
    assert (result["follow_up"], result["sla"], result["sla_decided"]) == (
        "not_reached",
        "missed",
        True,
    )
    record = _record(deployment)
    assert (record["outcome"], record["sla"], record["done_at"]) == (
        "not_reached",
        "missed",
        "2026-11-16T10:30:00Z",
    )
    assert "seconds_to_agent" not in record and "reached_at" not in record
    assert _counts(deployment) == {"created": 1, "done": 1, "not_reached": 1, "sla_missed": 1}
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert (totals["FollowUpSla_missed"], totals["FollowUpOutcome_not_reached"]) == (1, 1)


def test_a_transfer_is_followed_to_the_contact_that_finally_ends(deployment: Deployment) -> None:
    # Given a callback task an agent takes after an hour and then transfers
    _task(deployment)
    follow = _follow(deployment)
    _send(follow, event("CONNECTED_TO_AGENT", 1))
    _send(follow, event("INITIATED", 2, C2, previous=TASK))
    # When the first contact's DISCONNECTED (the transfer) arrives
    transfer = _send(follow, event("DISCONNECTED", 2, agent_at=1))
    # Then the task is still open, and still in the open-task index under its deadline
    assert (transfer["outcome"], transfer["follow_up"]) == ("recorded", "open")
    [open_task] = _open_tasks(deployment)
    assert open_task["open_due_at"] == {"S": "2026-11-18T10:00:00Z"}
    # When the new contact is transferred again, and the third contact's events name only the
    # contact it came from (no initialContactId): found through the second contact's link
    _send(follow, event("DISCONNECTED", 3, C2, previous=TASK))
    third = event("CONNECTED_TO_AGENT", 4, C3, previous=C2)
    del third["detail"]["initialContactId"]
    assert _send(follow, third)["outcome"] == "recorded"
    last = event("DISCONNECTED", 20, C3, previous=C2, agent_at=4)
    del last["detail"]["initialContactId"]
    ended = _send(follow, last)
    # Then the task ended with the last contact: completed in time, an hour to the first agent
    assert (ended["follow_up"], ended["sla"]) == ("completed", "met")
    record = _record(deployment)
    assert (record["outcome"], record["seconds_to_agent"], record["done_at"]) == (
        "completed",
        3600,
        "2026-11-17T06:00:00Z",
    )
    assert {c: f.get("previous") for c, f in record["contacts"].items()} == {
        TASK: None,
        C2: TASK,
        C3: C2,
    }
    assert _open_tasks(deployment) == []
    # and an event of a contact whose chain is unknown to us is not ours
    stranger = event("DISCONNECTED", 5, "someone-else", previous="another-task")
    stranger["detail"]["initialContactId"] = "another-task"
    assert _send(follow, stranger)["outcome"] == "not_ours"


def test_refused_timestamps_are_counted_and_never_stored(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a callback task
    _task(deployment)
    follow = _follow(deployment)
    capsys.readouterr()
    # When an event claims an agent took it two hours before it was made
    early = _send(follow, event("CONNECTED_TO_AGENT", -2))
    # and the task is done, then a repeat of its DISCONNECTED says another time, then an exact
    # repeat of the DISCONNECTED comes
    _send(follow, event("DISCONNECTED", 30, agent_at=3))
    moved = _send(follow, event("DISCONNECTED", 31, agent_at=3))
    repeat = _send(follow, event("DISCONNECTED", 30, agent_at=3))
    # Then the early and the moved times were refused and counted, the repeat was a no-op
    assert (early["outcome"], early["refused"]) == ("refused", ["before_creation"])
    assert (moved["outcome"], moved["refused"]) == ("refused", ["moved"])
    assert (repeat["outcome"], repeat["refused"]) == ("repeat", [])
    record = _record(deployment)
    assert record["contacts"][TASK] == {
        "connected_at": "2026-11-16T13:00:00Z",
        "disconnected_at": "2026-11-17T16:00:00Z",
    }
    assert record["follow_up_revision"] == 1  # one write: the DISCONNECTED
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert totals["FollowUpRefused_before_creation"] == 1
    assert totals["FollowUpRefused_moved"] == 1
    assert (totals["FollowUp_refused"], totals["FollowUp_repeat"]) == (2, 1)


def _unreadable() -> list[dict[str, Any]]:
    no_contact = event("DISCONNECTED", 5)
    del no_contact["detail"]["contactId"]
    unknown_type = event("DISCONNECTED", 5)
    unknown_type["detail"]["eventType"] = "TELEPORTED"
    voice = event("DISCONNECTED", 5)
    voice["detail"]["channel"] = "VOICE"
    bad_time = event("DISCONNECTED", 5)
    bad_time["detail"]["disconnectTimestamp"] = "tomorrow-ish"
    return [no_contact, unknown_type, voice, bad_time, {"detail": None}]


def test_events_not_ours_or_not_understood_are_counted_and_never_raise(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a callback task, and contact events of another task of the same instance and
    # events this code cannot read
    _task(deployment)
    follow = _follow(deployment)
    capsys.readouterr()
    # When they arrive, Then none raises (a raise would retry and dead-letter them)
    foreign = _send(follow, event("DISCONNECTED", 5, "another-task", initial="another-task"))
    unreadable = [_send(follow, raw) for raw in _unreadable()]
    # and each is counted, the reason logged; the task is untouched
    assert foreign["outcome"] == "not_ours"
    assert [r["outcome"] for r in unreadable] == ["not_understood"] * 5
    assert [r["reason"] for r in unreadable] == [
        "no contactId",
        "unknown eventType",
        "not a task",
        "unparsable timestamp",
        "no detail",
    ]
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert (totals["FollowUp_not_ours"], totals["FollowUp_not_understood"]) == (1, 5)
    assert _record(deployment)["outcome"] == "open"


def test_the_older_capitalised_shape_is_read(deployment: Deployment) -> None:
    # Given a callback task, When Connect's events come in the older capitalised shape
    # (AgentInfo.AgentArn, instanceARN, channel "Task")
    _task(deployment)
    follow = _follow(deployment)
    _send(follow, event("CONNECTED_TO_AGENT", 2, legacy=True))
    _send(follow, event("DISCONNECTED", 26, agent_at=2, legacy=True))
    # Then the follow-up is the same as from the current shape
    record = _record(deployment)
    assert (record["outcome"], record["sla"], record["seconds_to_agent"]) == (
        "completed",
        "met",
        7200,
    )


def test_a_task_ended_unassigned_at_the_instances_expiry_is_expired(
    deployment: Deployment,
) -> None:
    # Given an instance whose tasks expire after 3 days (ConnectTaskExpiryDays)
    _task(deployment)
    follow = _follow(deployment, CONNECT_TASK_EXPIRY_DAYS="3")
    # When Connect ends the task, nobody having taken it, 3 days and an hour after it was made
    result = _send(follow, event("DISCONNECTED", 73))
    # Then it expired, and the SLA is missed
    assert (result["follow_up"], result["sla"]) == ("expired", "missed")
    assert _counts(deployment) == {"created": 1, "done": 1, "expired": 1, "sla_missed": 1}


def test_an_open_task_is_in_the_open_task_index_until_it_ends(deployment: Deployment) -> None:
    # Given two callback tasks made on Monday 10:00 UTC (SLA 48 h)
    _task(deployment)
    _task(deployment, "0cc175b9c0f1b6a831c399e269772661", "contact-6")
    # Then both are open, due on Wednesday 10:00 UTC, with what a list of them shows
    found = _open_tasks(deployment)
    assert [t["open_due_at"]["S"] for t in found] == ["2026-11-18T10:00:00Z"] * 2
    assert {"segment", "counted_day", "escalated_at", "score", "contact_id"} <= set(found[0])
    # When one of them is completed
    follow = _follow(deployment)
    _send(follow, event("CONNECTED_TO_AGENT", 1))
    _send(follow, event("DISCONNECTED", 2, agent_at=1))
    # Then only the other is left; the store reads it as overdue from its deadline on only
    [left] = _open_tasks(deployment)
    assert left["contact_id"] == {"S": "contact-6"}
    escalations = follow.REPOS.escalations
    wednesday = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    assert list(escalations.overdue_tasks("post-purchase", CREATED, wednesday)) == []
    later = wednesday.replace(second=1)
    [overdue] = escalations.overdue_tasks("post-purchase", CREATED, later)
    assert overdue.contact_id == "contact-6"
