"""EventBridge Scheduler: schedules from the template, fired on request; one-time schedules
made through the API (each survey's expiry) run on the scaled clock. moto stores schedules
but never runs them."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .patching import patch

if TYPE_CHECKING:
    from ..adapter import LocalAdapter


@dataclass
class LocalSchedule:
    name: str
    expression: str
    time_zone: str
    target_arn: str
    input: str
    dead_letter_arn: str | None


class LocalScheduler:
    def __init__(self, adapter: LocalAdapter) -> None:
        self.adapter = adapter
        self.schedules: dict[str, LocalSchedule] = {}  # the template's, fired on request
        # one-time, by group and name (None: on the virtual clock)
        self._timers: dict[tuple[str, str], threading.Timer | None] = {}
        self._timers_lock = threading.Lock()

    def fire(self, name: str, scheduled_time: str | None = None) -> dict[str, Any]:
        adapter = self.adapter
        schedule = self.schedules[name]
        when = scheduled_time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = (
            schedule.input.replace("<aws.scheduler.scheduled-time>", when)
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.schedule-arn>", name)
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        function = adapter.functions[schedule.target_arn.split(":")[6]]
        payload, errored = adapter.invoke(function, json.loads(text))
        if errored and schedule.dead_letter_arn:
            adapter.send_to_queue(schedule.dead_letter_arn, {"schedule": name, "error": payload})
        return {"schedule": name, "scheduledTime": when, "errored": errored, "result": payload}

    def run_at(
        self,
        key: tuple[str, str],
        expression: str,
        time_zone: str,
        target: dict[str, Any],
        after_run: Callable[[], None],
    ) -> None:
        """A one-time schedule (at(...)) created through the API: invoke its target (a
        function, asynchronously, as Scheduler does) when the scaled clock reaches it, with
        failures dead-lettered to the target's queue; then after_run."""
        adapter = self.adapter
        local_at = datetime.fromisoformat(expression.removeprefix("at(").removesuffix(")"))
        due = local_at.replace(tzinfo=ZoneInfo(time_zone or "UTC"))
        delay = max(0.0, (due - adapter.clock()).total_seconds() / adapter.time_scale)

        def fire() -> None:
            function = adapter.functions[target["Arn"].split(":")[6]]
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            retries = (target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)
            adapter.invoke_async(
                function, json.loads(target.get("Input") or "{}"), min(retries, 2), dead_letter
            )
            with self._timers_lock:
                self._timers.pop(key, None)
            after_run()  # Scheduler is done once the asynchronous invoke is accepted

        if adapter.virtual is not None:
            with self._timers_lock:
                self._timers[key] = None  # runs when a test advances the clock past due
            adapter.virtual.call_at(due, fire)
            return
        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._timers_lock:
            self._timers[key] = timer
        timer.start()

    def pending(self) -> int:
        with self._timers_lock:
            return len(self._timers)

    def close(self) -> None:
        """Cancel the one-time schedules still pending: they belong to this stack only."""
        with self._timers_lock:
            for timer in self._timers.values():
                if timer is not None:
                    timer.cancel()
            self._timers.clear()


def run_one_time_schedules(scheduler: LocalScheduler) -> None:
    """moto stores schedules but never runs them: one-time ones run on the adapter's clock,
    and are deleted after they ran when they ask to be (as Scheduler does)."""
    from moto.scheduler.models import EventBridgeSchedulerBackend

    original_create = EventBridgeSchedulerBackend.create_schedule

    def create_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
        schedule = original_create(self, *args, **kwargs)
        if schedule.schedule_expression.startswith("at("):
            backend = self

            def delete_after_run() -> None:
                if schedule.action_after_completion == "DELETE":
                    with contextlib.suppress(Exception):  # deleted meanwhile
                        backend.delete_schedule(schedule.group_name, schedule.name)

            scheduler.run_at(
                (schedule.group_name, schedule.name),
                schedule.schedule_expression,
                schedule.schedule_expression_timezone,
                schedule.target,
                delete_after_run,
            )
        return schedule

    patch(EventBridgeSchedulerBackend, "create_schedule", create_schedule)
