"""Time, injectable: production reads the system clock; the local stack runs a scaled clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def scaled_clock(spec: str) -> Clock:
    """A clock that starts at a chosen instant and runs `scale` times faster than real time.

    spec is "<ISO instant>|<real epoch seconds at that instant>|<scale>". The local stack
    shortens Step Functions waits by the same scale, so a 24 h reminder delay both takes a few
    real seconds and shows as 24 h later on this clock.
    """
    instant, epoch, scale = spec.split("|")
    start = datetime.fromisoformat(instant).astimezone(UTC)
    anchor, factor = float(epoch), float(scale)

    def now() -> datetime:
        return start + timedelta(seconds=(time.time() - anchor) * factor)

    return now


def virtual_clock() -> datetime:
    """The local stack's virtual time (infra/local/emulation/virtual_time.py): the instant it
    has advanced to, which stands still while the handlers run."""
    return datetime.fromisoformat(os.environ["LOCAL_CLOCK_NOW"])


def clock_from_spec(spec: str | None) -> Clock:
    if spec == "virtual":
        return virtual_clock
    return scaled_clock(spec) if spec else system_clock


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, second precision: sortable as text (used in sort keys)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_time(event: Mapping[str, Any], clock: Clock) -> datetime:
    """The time EventBridge Scheduler filled into <aws.scheduler.scheduled-time>; a manual run
    may leave it out (or send the placeholder), and then it is now."""
    raw = str(event.get("scheduledTime", ""))
    if not raw or raw.startswith("<"):
        return clock()
    return datetime.fromisoformat(raw)
