"""The local stack's virtual clock (infra/local/emulation/virtual_time.py): waits go on only
when a test advances the clock past their deadlines, in deadline order, and the clock counts
as settled only once every woken thread has finished what it was woken for."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.emulation.virtual_time import (
    NOW_VARIABLE,
    VirtualClock,
    VirtualEvent,
    counted_thread,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 16, 7, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualClock]:
    monkeypatch.setenv(NOW_VARIABLE, "")
    virtual = VirtualClock(START)
    VirtualEvent.clock = virtual
    yield virtual


def _sleeper(clock: VirtualClock, hours: int, woke: list[tuple[int, datetime]]) -> None:
    def sleep() -> None:
        clock.sleep_until(START + timedelta(hours=hours))
        woke.append((hours, clock.now()))

    counted_thread(clock)(target=sleep, daemon=True).start()


def test_the_clock_stands_still_until_advanced_then_wakes_waits_in_deadline_order(
    clock: VirtualClock,
) -> None:
    woke: list[tuple[int, datetime]] = []
    for hours in (72, 24, 96):
        _sleeper(clock, hours, woke)
    clock.settle()
    assert woke == [] and clock.now() == START
    assert clock.pending_timers() == 3

    first = clock.advance()
    assert woke == [(24, START + timedelta(hours=24))]
    assert first == {"now": (START + timedelta(hours=24)).isoformat(), "timers": 2}
    clock.advance(limit=START + timedelta(hours=48))  # nothing due by then: moves to the limit
    assert clock.now() == START + timedelta(hours=48) and len(woke) == 1
    clock.advance()
    clock.advance()
    assert [hours for hours, _ in woke] == [24, 72, 96]
    assert clock.pending_timers() == 0
    assert os.environ[NOW_VARIABLE] == (START + timedelta(hours=96)).isoformat()


def test_then_moves_a_reaction_time_past_the_deadline_unless_another_comes_first(
    clock: VirtualClock,
) -> None:
    woke: list[tuple[int, datetime]] = []
    _sleeper(clock, 1, woke)
    _sleeper(clock, 2, woke)
    clock.advance(then=timedelta(minutes=1))
    assert clock.now() == START + timedelta(hours=1, minutes=1)
    clock.advance(then=timedelta(hours=5))  # nothing after the second: the whole reaction time
    assert clock.now() == START + timedelta(hours=7)


def test_an_event_set_by_another_thread_hands_its_waiter_on_before_settling(
    clock: VirtualClock,
) -> None:
    """A callback (SendTaskSuccess) wakes a task waiting with a 24 h timeout: the woken thread
    is counted active by the one that set the event, so settle() waits for its work."""
    event = VirtualEvent()
    release = threading.Event()
    results: list[bool] = []

    def task() -> None:
        results.append(event.wait(timeout=24 * 3600))
        release.wait()  # the woken thread's work, still running when settle() is first called

    counted_thread(clock)(target=task, daemon=True).start()
    clock.settle()
    assert clock.pending_timers() == 1
    event.set()
    with pytest.raises(TimeoutError):
        clock.settle(timeout=0.2)
    release.set()
    clock.settle()
    assert results == [True] and clock.now() == START


def test_an_event_not_set_times_out_when_the_clock_passes_its_deadline(
    clock: VirtualClock,
) -> None:
    event = VirtualEvent()
    results: list[bool] = []
    counted_thread(clock)(target=lambda: results.append(event.wait(3600)), daemon=True).start()
    clock.advance()
    assert results == [False] and clock.now() == START + timedelta(hours=1)


def test_a_callback_runs_once_the_clock_reaches_it(clock: VirtualClock) -> None:
    ran: list[datetime] = []
    clock.call_at(START + timedelta(days=7), lambda: ran.append(clock.now()))
    clock.advance(limit=START + timedelta(days=6))
    assert ran == []
    clock.advance()
    assert ran == [START + timedelta(days=7)]
