"""Start the local stack in a child process (its own module state and logs) and stop it.

Started afresh (`python -m infra.local.stack`), or, inside `warm_starts()`, forked from a
starter that has imported what a stack needs already (infra/local/starter.py): a test session
starting a stack per module saves the imports of each but the first.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .template import REPO_ROOT

LOG_DIR = REPO_ROOT / ".local-stack"
STACK_MODULE = "infra.local.stack"


class ForkedStack:
    """A stack forked by the starter: not our child, so watched and stopped by its pid (the
    starter's kernel reaps it, and a pid no longer there is a stack that has ended)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(STACK_MODULE, timeout)
            time.sleep(0.01)
        return 0


class Starter:
    """infra/local/starter.py in a child process: one request a stack, its pid back."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.starter"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.env = _imported_under()

    def start(self, options: list[str], log_path: Path) -> ForkedStack:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"argv": options, "env": dict(os.environ), "log": str(log_path)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the local stack starter has ended")
        return ForkedStack(int(json.loads(answer)["pid"]))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the starter stops what it started, then ends
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _imported_under() -> dict[str, str]:
    """The environment a starter's imports saw, but for what pytest changes for each test."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


class _WarmStarts:
    """Whether stacks are forked from a starter now, and the starter (made on first use, and
    made again when the environment changed: what it imported saw the old one)."""

    enabled = False
    starter: Starter | None = None

    @classmethod
    def start(cls, options: list[str], log_path: Path) -> ForkedStack:
        if cls.starter is not None and cls.starter.env != _imported_under():
            cls.starter.close()
            cls.starter = None
        if cls.starter is None:
            cls.starter = Starter()
        return cls.starter.start(options, log_path)


@contextmanager
def warm_starts() -> Iterator[None]:
    """Within: each running_stack is forked from one starter that has imported what a stack
    needs (infra/local/starter.py); stopped at the end with the stacks it started."""
    _WarmStarts.enabled = True
    try:
        yield
    finally:
        _WarmStarts.enabled = False
        if _WarmStarts.starter is not None:
            _WarmStarts.starter.close()
        _WarmStarts.starter = None


@contextmanager
def running_stack(
    *,
    time_scale: float,
    start_time: str,
    log_name: str = "stack.log",
    timeout: float = 120,
    virtual_time: bool = False,
) -> Iterator[dict[str, Any]]:
    LOG_DIR.mkdir(exist_ok=True)
    log_path = LOG_DIR / log_name
    with tempfile.TemporaryDirectory() as scratch:
        ready = Path(scratch) / "ready.json"
        options = [
            "--port", "0", "--survey-port", "0", "--results-port", "0",
            "--time-scale", str(time_scale), "--start-time", start_time,
            "--ready-file", str(ready),
            *(["--virtual-time"] if virtual_time else []),
        ]  # fmt: skip
        process: subprocess.Popen[bytes] | ForkedStack
        if _WarmStarts.enabled:
            process = _WarmStarts.start(options, log_path)
        else:
            with log_path.open("w") as log:
                process = subprocess.Popen(  # noqa: S603 - our own module
                    [sys.executable, "-m", STACK_MODULE, *options],
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(os.environ),
                )
        try:
            deadline = time.monotonic() + timeout
            while not ready.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"local stack exited early; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"local stack not up in {timeout:g} s; see {log_path}")
                time.sleep(0.1)
            info = json.loads(ready.read_text(encoding="utf-8"))
            info["log_path"] = str(log_path)
            yield info
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
