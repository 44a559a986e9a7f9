"""Virtual time: the stack's clock stands still until the test advances it.

On a scaled clock a 24 h wait takes 24 / scale real seconds, and the stack's own latency is
scaled too: a second of a loaded machine is an hour of the stack's time at 3,600x, so whether
a customer's answer lands before or after a reminder depended on the machine's load. With
virtual time nothing waits in real time. Every wait of the stack registers its deadline here
(Step Functions Wait states and task timeouts, and the one-time schedules), and a test calls
`advance` (POST /_local/clock/advance): once nothing is running (no execution between its
waits, no invocation, stream batch or request in flight), the clock jumps to the earliest
deadline, the waits due then go on, and the call returns when they have settled too. What the
test does between two advances happens at one instant of the stack's time.

Which threads are working is counted (`active`): an execution's thread from its start to its
end, less while it waits here; a task's thread likewise. A wait woken by another thread (a
callback's SendTaskSuccess, a task that ended) is counted active by the thread that wakes it,
before that one goes on, so the count never drops to zero between the two.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .patching import patch

# The handlers read the stack's instant from the environment (survey_core.clock.virtual_clock):
# they run in this process but each with its own copy of survey_core.
NOW_VARIABLE = "LOCAL_CLOCK_NOW"
SETTLE_CHECKS = 3  # consecutive idle checks before the stack counts as settled
SETTLE_INTERVAL = 0.005  # real seconds between them


class _Waiter:
    __slots__ = ("deadline", "woken")

    def __init__(self, deadline: datetime | None) -> None:
        self.deadline = deadline
        self.woken = False


class VirtualClock:
    def __init__(self, start: datetime, idle: Callable[[], bool] = lambda: True) -> None:
        self._now = start
        self._condition = threading.Condition()
        self._sequence = itertools.count()
        # deadline, sequence, then a parked _Waiter or a callback to run then
        self._timers: list[tuple[datetime, int, Any]] = []
        self.active = 0
        self.idle = idle  # the rest of the stack: no invocation, stream batch, request in flight
        os.environ[NOW_VARIABLE] = start.isoformat()

    def now(self) -> datetime:
        with self._condition:
            return self._now

    # ------------------------------------------------------------ the stack's threads
    def started(self) -> None:
        with self._condition:
            self.active += 1

    def ended(self) -> None:
        with self._condition:
            self.active -= 1
            self._condition.notify_all()

    def wait(self, waiter: _Waiter) -> None:
        """Park the calling (active) thread until woken: by another thread, or by the clock
        reaching its deadline."""
        with self._condition:
            if waiter.deadline is not None:
                heapq.heappush(self._timers, (waiter.deadline, next(self._sequence), waiter))
            self.active -= 1
            self._condition.notify_all()
            while not waiter.woken:
                self._condition.wait()
            # woken: whoever woke it counted it active again

    def wake(self, waiter: _Waiter) -> None:
        """Called with the condition held."""
        if not waiter.woken:
            waiter.woken = True
            self.active += 1
            self._condition.notify_all()

    def sleep_until(self, deadline: datetime) -> None:
        if deadline <= self.now():
            return
        self.wait(_Waiter(deadline))

    def call_at(self, deadline: datetime, callback: Callable[[], None]) -> None:
        """Run callback on a thread of its own once the clock reaches deadline."""
        with self._condition:
            heapq.heappush(self._timers, (deadline, next(self._sequence), callback))
            self._condition.notify_all()

    def pending_timers(self) -> int:
        with self._condition:
            return sum(1 for _, _, what in self._timers if _live(what))

    # ------------------------------------------------------------ the test's side
    def settle(self, timeout: float = 120.0) -> None:
        """Return once nothing has run for SETTLE_CHECKS checks in a row."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < SETTLE_CHECKS:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the stack did not settle: {self.active} threads active")
            with self._condition:
                if self.active == 0 and self.idle():
                    quiet += 1
                else:
                    quiet = 0
                self._condition.wait(SETTLE_INTERVAL)

    def advance(self, *, then: timedelta = timedelta(0), limit: datetime | None = None) -> dict:
        """Settle; jump to the earliest deadline (not past limit) and let what is due run;
        settle again; then move `then` further (a customer's reaction time) unless a deadline
        comes first. Returns the new instant and how many waits remain."""
        self.settle()
        with self._condition:
            self._drop_woken()
            due = self._timers[0][0] if self._timers else None
            if due is not None and (limit is None or due <= limit):
                self._move_to(max(due, self._now))
            elif limit is not None and limit > self._now:
                self._move_to(limit)
        self.settle()
        if then:
            with self._condition:
                self._drop_woken()
                target = self._now + then
                if not self._timers or self._timers[0][0] > target:
                    self._move_to(target)
        return {"now": self.now().isoformat(), "timers": self.pending_timers()}

    def _move_to(self, moment: datetime) -> None:
        """With the condition held: the clock reads moment; every wait due by then goes on."""
        self._now = moment
        os.environ[NOW_VARIABLE] = moment.isoformat()
        while self._timers and self._timers[0][0] <= moment:
            _, _, what = heapq.heappop(self._timers)
            if isinstance(what, _Waiter):
                self.wake(what)
            else:
                self.active += 1
                threading.Thread(target=self._run, args=(what,), daemon=True).start()
        self._condition.notify_all()

    def _run(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        finally:
            self.ended()

    def _drop_woken(self) -> None:
        self._timers = [t for t in self._timers if _live(t[2])]
        heapq.heapify(self._timers)


def _live(what: Any) -> bool:
    return not (isinstance(what, _Waiter) and what.woken)


class VirtualEvent:
    """threading.Event for moto's Step Functions interpreter: wait(timeout) parks on the
    virtual clock (timeout in the stack's seconds)."""

    clock: VirtualClock  # set by install

    def __init__(self) -> None:
        self._flag = False
        self._waiters: list[_Waiter] = []

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self.clock._condition:
            self._flag = True
            for waiter in self._waiters:
                self.clock.wake(waiter)
            self._waiters.clear()

    def clear(self) -> None:
        with self.clock._condition:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        clock = self.clock
        with clock._condition:
            if self._flag:
                return True
            deadline = None if timeout is None else clock._now + timedelta(seconds=timeout)
            waiter = _Waiter(deadline)
            self._waiters.append(waiter)
        clock.wait(waiter)
        with clock._condition:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return self._flag


def counted_thread(clock: VirtualClock) -> type:
    """threading.Thread whose run counts as active on the clock from start() to its end."""

    class CountedThread(threading.Thread):
        def start(self) -> None:
            clock.started()
            try:
                super().start()
            except BaseException:
                clock.ended()
                raise

        def run(self) -> None:
            try:
                super().run()
            finally:
                clock.ended()

    return CountedThread


def run_step_functions_on(clock: VirtualClock) -> None:
    """moto's interpreter: executions' and tasks' threads are counted, and its events (a
    task's end, a callback, a heartbeat) wait on the virtual clock."""
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.eval.callback import callback
    from moto.stepfunctions.parser.backend import execution_worker

    VirtualEvent.clock = clock
    thread = counted_thread(clock)

    class _Threading:
        Event = VirtualEvent

        def __getattr__(self, name: str) -> Any:
            return getattr(threading, name)

    patch(execution_worker, "Thread", thread)
    patch(execute_state, "Thread", thread)
    patch(execute_state, "threading", _Threading())
    patch(callback, "Event", VirtualEvent)
