"""EventBridge: rule matches delivered to Lambda (asynchronously) and Step Functions targets;
moto delivers only to SQS, logs and buses."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .patching import patch

if TYPE_CHECKING:
    from ..adapter import LocalAdapter


def deliver(adapter: LocalAdapter, target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = target["Arn"]
    payload: Any = event
    if "Input" in target:
        payload = json.loads(target["Input"])
    service = arn.split(":")[2]
    if service == "lambda":
        function = adapter.functions[arn.split(":")[6]]
        adapter.invoke_async(function, payload)
    elif service == "states":
        name = f"{event.get('id', uuid.uuid4())}-{target.get('Id', 'target')}"[:80]
        try:
            adapter.client("stepfunctions").start_execution(
                stateMachineArn=arn, name=name, input=json.dumps(payload)
            )
        except Exception as error:
            dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
            if not dead_letter:
                raise
            adapter.send_to_queue(dead_letter, {"error": str(error), "event": event})


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: moto keeps `time` as Unix seconds (and
    turns it into ISO 8601 only for its own targets); AWS sends "2026-11-17T08:12:00Z"."""
    delivered = dict(event)
    raw = delivered.get("time")
    if isinstance(raw, int | float) or (isinstance(raw, str) and _is_number(raw)):
        moment = datetime.fromtimestamp(float(raw), UTC)
        delivered["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def routing_send_to_targets(
    original: Callable[..., None], deliver: Callable[[dict[str, Any], dict[str, Any]], None]
) -> Callable[..., None]:
    """moto's Rule.send_to_targets, with Lambda and Step Functions targets handed to deliver."""
    swap_lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if t["Arn"].split(":")[2] in ("lambda", "states")]
        for target in ours:
            deliver(target, as_delivered(original_event))
        others = [t for t in self.targets if t not in ours]
        if others:
            with swap_lock:
                everything, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = everything

    return send_to_targets


def deliver_to_functions_and_state_machines(adapter: LocalAdapter) -> None:
    from moto.events.models import Rule

    def deliver_here(target: dict[str, Any], event: dict[str, Any]) -> None:
        deliver(adapter, target, event)

    patch(Rule, "send_to_targets", routing_send_to_targets(Rule.send_to_targets, deliver_here))
