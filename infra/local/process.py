"""Start the local stack in a child process (its own module state and logs) and stop it."""

from __future__ import annotations

import json
import os
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
    with tempfile.TemporaryDirectory() as scratch, log_path.open("w") as log:
        ready = Path(scratch) / "ready.json"
        command = [
            sys.executable, "-m", "infra.local.stack",
            "--port", "0", "--survey-port", "0", "--results-port", "0",
            "--time-scale", str(time_scale), "--start-time", start_time,
            "--ready-file", str(ready),
            *(["--virtual-time"] if virtual_time else []),
        ]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603 - our own module
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
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
