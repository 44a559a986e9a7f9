"""Start local stacks by forking a process that has already imported what a stack needs.

A local stack started afresh spends about 1.7 s of its 4.6 s importing moto, the SAM translator,
Powertools and the rest, the same modules every time; a test session starts one stack per
end-to-end module. The starter imports them once and forks a child per stack: each stack is
still its own process (its own moto state, clock, log and functions), started from a warm copy.

The starter learns what to import from the first stack it starts: that child, once up, writes
the names of the modules it has loaded, and the starter imports them while the stack runs. Nothing
of ours that runs per stack is imported there: the functions' code (survey_core and the
handlers) is loaded afresh by each stack, as before.

    python -m infra.local.starter        # reads one JSON request a line on stdin

Request: {"argv": [...stack options...], "env": {...}, "log": path}; answer: {"pid": n}.
The starter ends, stopping the stacks it started, when its stdin closes.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

# Loaded afresh in each stack (infra/local/functions.py), never kept in the starter.
FRESH_PREFIXES = ("survey_core", "lambda_", "results_auth", "__main__", "__mp_main__")
# What every stack imports before it is up, whatever it learned: the stack and its server.
BASE_MODULES = ("infra.local.stack", "moto.server", "werkzeug.serving", "chalice.local")


def warm(names: list[str] | tuple[str, ...]) -> None:
    """Import each module not imported yet; one that fails to import is left to the stack."""
    for name in names:
        if name in sys.modules or name.startswith(FRESH_PREFIXES):
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def loaded_modules() -> list[str]:
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if module is not None and not name.startswith(FRESH_PREFIXES)
    )


def main() -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the stacks as they end
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C ends the starter through its stdin
    warm(BASE_MODULES)
    children: list[int] = []
    with tempfile.TemporaryDirectory(prefix="local-stack-starter-") as scratch:
        learned = Path(scratch) / "modules.txt"
        for line in sys.stdin:
            pid = os.fork()
            if pid == 0:
                _run_stack(json.loads(line), learned)
            children.append(pid)
            print(json.dumps({"pid": pid}), flush=True)
            # While the first stack runs (its test takes seconds), import what it loaded.
            if len(children) == 1 and _wait_for(learned, pid):
                warm(learned.read_text(encoding="utf-8").split())
                # What is imported stays: the collector never scans it again, here or in the
                # stacks, whose pages then stay shared with this process instead of copied.
                gc.freeze()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return 0


def _wait_for(learned: Path, pid: int, timeout: float = 300) -> bool:
    """Until the stack has written what it loaded (True), or has ended or timed out (False)."""
    deadline = time.monotonic() + timeout
    while not learned.exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _run_stack(request: dict[str, Any], learned: Path) -> None:
    """In the forked child: become the stack the request describes. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), line_buffering=True)  # noqa: SIM115
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), line_buffering=True)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(request["env"])
        # A fork copies moto's random generator: ids would repeat from one stack to the next.
        from moto.moto_api._internal import mock_random

        mock_random.seed()
        from . import stack

        def teach_the_starter() -> None:
            if learned.exists():
                return
            written = learned.with_suffix(f".{os.getpid()}")
            written.write_text("\n".join(loaded_modules()), encoding="utf-8")
            written.replace(learned)  # whole, for the starter reading it at the next request

        stack.AFTER_START.append(teach_the_starter)
        code = stack.main(request["argv"])
    except BaseException:  # whatever ends the stack goes to its log
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
