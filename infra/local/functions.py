"""Run the template's Lambda handlers in this process, each as if in its own sandbox.

Each function's module is imported with that function's environment (as the template sets it)
and with its own fresh copy of the shared `survey_core` package, so module-level state
(configuration, PynamoDB table names, Powertools service name) never leaks between functions.
One invocation at a time per function, as a single Lambda sandbox would.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .template import REPO_ROOT, FunctionSource

LAYER_DIR = REPO_ROOT / "layers" / "survey_core"
SHARED_PACKAGE = "survey_core"
MODULE_PREFIX = "lambda_"  # a handler module is named lambda_<LogicalId>_<hex>
_IMPORT_LOCK = threading.Lock()


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class LineAtomicStream(io.TextIOBase):
    """Standard output shared by handlers running on many threads, written a whole line at a
    time. print() writes the text and its newline in two calls, so two handlers printing at
    once (Powertools' metrics) could put two records on one line, and a log reader loses both.
    Each thread's partial line waits in its own buffer; complete lines go out under one lock,
    flushed, so nothing written is lost if the process is killed."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = threading.local()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(self._stream.encoding)

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def write(self, text: str) -> int:
        buffered = getattr(self._pending, "text", "") + text
        complete, newline, rest = buffered.rpartition("\n")
        self._pending.text = rest
        if newline:
            with self._lock:
                self._stream.write(complete + newline)
                self._stream.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()


def load_module(source: FunctionSource, environ: Mapping[str, str]) -> ModuleType:
    """Import the function's handler module afresh, with its own environment."""
    module_name = source.handler.rpartition(".")[0]
    path = Path(source.code_dir) / f"{module_name.replace('.', '/')}.py"
    unique = f"{MODULE_PREFIX}{source.logical_id}_{uuid.uuid4().hex[:8]}"
    with _IMPORT_LOCK, _environment(environ):
        if str(LAYER_DIR) not in sys.path:
            sys.path.insert(0, str(LAYER_DIR))
        # The function's own folder, as /var/task on Lambda: for a package it ships beside its
        # handler (functions/results/results_auth). Appended: it never shadows the layer.
        if str(source.code_dir) not in sys.path:
            sys.path.append(str(source.code_dir))
        # Afresh: the layer and the function's own packages (results_auth), which import the
        # layer: a copy kept from another load would hold another copy's classes.
        own = {p.name for p in Path(source.code_dir).iterdir() if (p / "__init__.py").exists()}
        for name in [m for m in sys.modules if m.split(".")[0] in {SHARED_PACKAGE, *own}]:
            del sys.modules[name]
        spec = importlib.util.spec_from_file_location(unique, path)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def load_handler(source: FunctionSource, environ: Mapping[str, str]) -> Any:
    return getattr(load_module(source, environ), source.handler.rpartition(".")[2])


def calling_function() -> str | None:
    """The logical id of the function whose handler code is running on this thread (however it
    was invoked: by the adapter or by the survey pages' server), or None outside handlers."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.startswith(MODULE_PREFIX):
            return name[len(MODULE_PREFIX) :].rpartition("_")[0]
        frame = frame.f_back  # type: ignore[assignment]
    return None


class FakeLambdaContext:
    """The attributes Powertools and Chalice read from a Lambda context."""

    def __init__(self, function_name: str, arn: str, memory: int, timeout: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


@dataclass
class Invocation:
    logical_id: str
    errored: bool
    error_type: str | None
    result: Any
    ms: float = 0.0  # the handler's run time (wall clock, this process)


@dataclass
class LocalFunction:
    source: FunctionSource
    name: str
    arn: str
    memory: int
    timeout: int
    environment: dict[str, str]
    handler: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, base_environment: Mapping[str, str]) -> None:
        runtime_env = {
            **base_environment,
            **self.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
        }
        self.handler = load_handler(self.source, runtime_env)

    def invoke(self, event: Any) -> Invocation:
        """Call the handler; an exception becomes a Lambda error payload, as in the cloud.

        Handlers log to this process's standard output, as a Lambda sandbox logs to its stream.
        """
        context = FakeLambdaContext(self.name, self.arn, self.memory, self.timeout)
        with self.lock:
            began = time.perf_counter()
            try:
                result = self.handler(event, context)
                invocation = Invocation(self.source.logical_id, False, None, result)
            except Exception as error:  # the error is the function's result, as in Lambda
                payload = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                }
                invocation = Invocation(self.source.logical_id, True, type(error).__name__, payload)
            invocation.ms = (time.perf_counter() - began) * 1000
        return invocation


def payload_of(invocation: Invocation) -> str:
    return json.dumps(invocation.result, default=str) if invocation.result is not None else "null"
