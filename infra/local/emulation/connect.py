"""Amazon Connect (not in moto): StartTaskContact and UpdateContact requests are validated
against botocore's Connect model and recorded; contact events of the tasks (and of transfers'
new contacts, in the current or the older capitalised shape) are published on request."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from ..faults import rest_operation
from ..template import ACCOUNT_ID

CONTACT_EVENT_SHAPES = ("current", "older")
TRANSFER_METHODS = ("TRANSFER", "QUEUE_TRANSFER")
CONTACT_EVENT_TYPES = frozenset(
    {
        "INITIATED",
        "CONNECTED_TO_SYSTEM",
        "QUEUED",
        "CONNECTED_TO_AGENT",
        "DISCONNECTED",
        "COMPLETED",
    }
)


class LocalConnect:
    """The tasks started and every contact of their chains; `clock` is the handlers' (scaled)
    time, `client` makes clients of the stack's own server (events, for PutEvents)."""

    def __init__(
        self, region: str, clock: Callable[[], datetime], client: Callable[[str], Any]
    ) -> None:
        self.region = region
        self._clock = clock
        self._client = client
        self.tasks: list[dict[str, Any]] = []
        self.contacts: dict[str, LocalContact] = {}  # every contact of every chain
        self._model = botocore.session.get_session().get_service_model("connect")
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        name = rest_operation("connect", method, path)
        if name not in ("StartTaskContact", "UpdateContact"):
            return 501, {"__type": "NotImplemented", "message": f"{method} {path} is not emulated"}
        operation = self._model.operation_model(name)
        params = json.loads(body or b"{}")
        if name == "UpdateContact":  # InstanceId and ContactId travel in the path
            *_, instance_id, contact_id = path.rstrip("/").split("/")
            params.update(InstanceId=instance_id, ContactId=contact_id)
        report = ParamValidator().validate(params, operation.input_shape)
        if report.has_errors():
            return 400, {"__type": "InvalidParameterException", "message": report.generate_report()}
        if name == "UpdateContact":
            return self._update_task(params)
        with self._lock:
            for task in self.tasks:
                if params.get("ClientToken") and task["request"].get("ClientToken") == params.get(
                    "ClientToken"
                ):
                    return 200, {"ContactId": task["ContactId"]}
            contact_id = str(uuid.uuid4())
            now = self._clock()  # the handlers' (scaled) time
            self.tasks.append(
                {
                    "ContactId": contact_id,
                    "operation": operation.name,
                    "request": params,
                    "at": now.isoformat(),
                }
            )
            self.contacts[contact_id] = LocalContact(
                contact_id,
                root=contact_id,
                instance_arn=self._instance_arn(params["InstanceId"]),
                initiation_method="API",
                initiated=connect_time(now),
            )
        return 200, {"ContactId": contact_id}

    def _instance_arn(self, instance_id: str) -> str:
        return f"arn:aws:connect:{self.region}:{ACCOUNT_ID}:instance/{instance_id}"

    def _update_task(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """UpdateContact of a started task: its name, description and references change (the
        task keeps each version under "updates", newest last)."""
        with self._lock:
            task = next((t for t in self.tasks if t["ContactId"] == params["ContactId"]), None)
            if task is None:
                return 404, {"__type": "ResourceNotFoundException", "message": "no such contact"}
            changed: dict[str, Any] = {
                k: params[k] for k in ("Name", "Description", "References") if k in params
            }
            task["request"].update(changed)
            updates: list[dict[str, Any]] = task.setdefault("updates", [])
            updates.append({**changed, "at": self._clock().isoformat()})
        return 200, {}

    def contact_event(
        self,
        contact_id: str,
        event_type: str,
        at: str | None,
        *,
        shape: str = "current",
        disconnect_reason: str | None = None,
    ) -> dict[str, Any]:
        """An Amazon Connect contact event of a contact the stack knows (a started task or a
        transfer's new contact), on the default bus as Connect publishes it. `at` is when it
        happened (default: the stack's clock); `shape` "older" gives AWS's older capitalised
        variant; `disconnect_reason` e.g. "EXPIRED". KeyError: no such contact."""
        with self._lock:
            contact = self.contacts[contact_id]
        when = at or connect_time(self._clock())
        entry = contact_event_entry(
            contact, event_type, when, shape=shape, disconnect_reason=disconnect_reason
        )
        self._client("events").put_events(Entries=[entry])
        return {"published": event_type, "contactId": contact_id, "at": when, "shape": shape}

    def transfer_contact(
        self, contact_id: str, at: str | None, method: str = "TRANSFER"
    ) -> dict[str, Any]:
        """Transfer (or, with QUEUE_TRANSFER, re-queue) a contact as Connect does: a new contact
        of the same chain starts (INITIATED, its initialContactId the chain's first contact, its
        previousContactId this one) and this one is DISCONNECTED. KeyError: no such contact."""
        with self._lock:
            previous = self.contacts[contact_id]
            when = at or connect_time(self._clock())
            new_id = str(uuid.uuid4())
            self.contacts[new_id] = LocalContact(
                new_id,
                root=previous.root,
                instance_arn=previous.instance_arn,
                initiation_method=method,
                initiated=when,
                previous=contact_id,
            )
        self.contact_event(new_id, "INITIATED", when)
        self.contact_event(contact_id, "DISCONNECTED", when)
        return {
            "contactId": new_id,
            "initialContactId": previous.root,
            "previousContactId": contact_id,
            "at": when,
        }


def connect_time(moment: datetime) -> str:
    """A timestamp as Connect writes them: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class LocalContact:
    """One contact of a task's chain, and what its events have told so far."""

    contact_id: str
    root: str  # the chain's first contact: the task
    instance_arn: str
    initiation_method: str  # API (the task), TRANSFER, QUEUE_TRANSFER
    initiated: str
    previous: str | None = None
    connected: str | None = None  # an agent connected
    disconnected: str | None = None


def contact_event_entry(
    contact: LocalContact,
    event_type: str,
    when: str,
    *,
    shape: str = "current",
    disconnect_reason: str | None = None,
) -> dict[str, Any]:
    """The PutEvents entry of one contact event (fields of the documented contact events data
    model). Later events carry what earlier ones told (the agent's connection, the disconnect),
    as Connect's do. The "older" shape is AWS's earlier sample: AgentInfo.AgentArn, instanceARN,
    channel "Task"."""
    older = shape == "older"
    if event_type == "CONNECTED_TO_AGENT" and contact.connected is None:
        contact.connected = when
    if event_type == "DISCONNECTED" and contact.disconnected is None:
        contact.disconnected = when
    detail: dict[str, Any] = {
        "eventType": event_type,
        "contactId": contact.contact_id,
        "initialContactId": contact.root,
        "channel": "Task" if older else "TASK",
        ("instanceARN" if older else "instanceArn"): contact.instance_arn,
        "initiationMethod": contact.initiation_method,
        "initiationTimestamp": contact.initiated,
    }
    if contact.previous:
        detail["previousContactId"] = contact.previous
    if contact.connected:
        agent = {
            ("AgentArn" if older else "agentArn"): f"{contact.instance_arn}/agent/local-agent",
            "connectedToAgentTimestamp": contact.connected,
        }
        if event_type == "COMPLETED":
            agent["afterContactWorkEndTimestamp"] = when
        detail["AgentInfo" if older else "agentInfo"] = agent
    if event_type in ("DISCONNECTED", "COMPLETED"):
        detail["disconnectTimestamp"] = contact.disconnected or when
    if disconnect_reason:
        detail["disconnectReason"] = disconnect_reason
    return {
        "Source": "aws.connect",
        "DetailType": "Amazon Connect Contact Event",
        "Detail": json.dumps(detail),
        "Time": datetime.fromisoformat(when.replace("Z", "+00:00")),
        "Resources": [f"{contact.instance_arn}/contact/{contact.contact_id}", contact.instance_arn],
    }
