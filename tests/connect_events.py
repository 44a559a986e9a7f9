"""Amazon Connect contact events of a callback task, as Connect publishes them on the default
bus: the current shape, or the older capitalised one of AWS's earlier samples (AgentInfo,
instanceARN, channel "Task"). Shared by the unit table and the tests against moto."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

INSTANCE_ARN = (
    "arn:aws:connect:eu-north-1:123456789012:instance/00000000-0000-4000-8000-000000000001"
)


def stamp(created: datetime, hours: float) -> str:
    return (created + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def contact_event(
    event_type: str,
    hours: float,
    contact: str,
    *,
    created: datetime,
    root: str,
    previous: str | None = None,
    initial: str | None = None,
    agent_at: float | None = None,
    reason: str | None = None,
    legacy: bool = False,
    acw_end: float | None = None,
    instance_arn: str = INSTANCE_ARN,
) -> dict[str, Any]:
    """A contact event as Connect publishes it: the current shape, or (legacy) the older
    capitalised one of AWS's earlier samples. A later contact of the chain names the task's
    contact as its initial one. The event's own timestamp field is filled in, and an agent
    connection it knows of (agent_at) is carried, as Connect does on later events."""
    detail: dict[str, Any] = {
        "eventType": event_type,
        "contactId": contact,
        "channel": "Task" if legacy else "TASK",
        "instanceARN" if legacy else "instanceArn": instance_arn,
        "initiationMethod": "TRANSFER" if contact != root else "API",
    }
    if contact != root or initial:
        detail["initialContactId"] = initial or root
    if previous:
        detail["previousContactId"] = previous
    if event_type == "INITIATED":
        detail["initiationTimestamp"] = stamp(created, hours)
    if event_type == "CONNECTED_TO_AGENT":
        agent_at = hours
    if agent_at is not None:
        agent_key, arn_key, time_key = (
            ("AgentInfo", "AgentArn", "connectedToAgentTimestamp")
            if legacy
            else ("agentInfo", "agentArn", "connectedToAgentTimestamp")
        )
        detail[agent_key] = {
            arn_key: f"{instance_arn}/agent/a-1",
            time_key: stamp(created, agent_at),
        }
        if acw_end is not None:
            detail[agent_key]["afterContactWorkEndTimestamp"] = stamp(created, acw_end)
    if event_type in ("DISCONNECTED", "COMPLETED"):
        detail["disconnectTimestamp"] = stamp(created, hours)
    if reason:
        detail["disconnectReason"] = reason
    if legacy:
        detail["CustomerVoiceActivity"] = {"GreetingStartTimestamp": None}
    return {
        "version": "0",
        "id": f"{contact}-{event_type}-{hours}",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "time": stamp(created, acw_end if acw_end is not None else hours),
        "detail": detail,
    }
