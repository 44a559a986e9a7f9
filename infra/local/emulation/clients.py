"""The AWS requests the functions make, recorded by botocore event hooks on every client made
in this process (/_local/function-calls; bench/cost_model.py prices them); the same hook checks
their DynamoDB and SNS requests against their IAM roles (iam.py). Every botocore session in the
process reads AWS's API models through one loader (share_api_models)."""

from __future__ import annotations

import functools
import threading
from collections import deque
from typing import Any

import botocore.session

from ..functions import calling_function
from ..iam import hook_active
from .patching import patch

FUNCTION_CALLS_KEPT = 10_000  # the most recent requests made by the functions


class FunctionCalls:
    """AWS requests made by the functions' handlers: seq, function, service, operation,
    params and response (bytes as their length); see record_call."""

    def __init__(self) -> None:
        self._calls: deque[dict[str, Any]] = deque(maxlen=FUNCTION_CALLS_KEPT)
        self._seq = 0
        self._lock = threading.Lock()

    def record_call(self, params: Any, model: Any, context: Any, **_: Any) -> None:
        """botocore's before-parameter-build hook (the API parameters, once per call): a
        request made from inside a function's handler is recorded with the function's id."""
        function = calling_function()
        if function is None:
            return
        record = {
            "function": function,
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": _plain(params),
        }
        with self._lock:
            self._seq += 1
            record["seq"] = self._seq
            self._calls.append(record)
        context["local_function_call"] = record

    def record_response(self, parsed: Any, context: Any, **_: Any) -> None:
        """botocore's after-call hook: the response (or error) of a recorded call."""
        record = context.get("local_function_call")
        if record is not None and isinstance(parsed, dict):
            response = _plain({k: v for k, v in parsed.items() if k != "ResponseMetadata"})
            with self._lock:
                record["response"] = response

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        """The kept records after sequence number `since` (0: all), oldest first."""
        with self._lock:
            return [dict(record) for record in self._calls if record["seq"] > since]


def _plain(value: Any) -> Any:
    """JSON-ready: bytes become {"bytes": length} (an email's size, not its content)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def hook_clients(calls: FunctionCalls) -> None:
    """Every botocore client made in this process from now on (boto3's and PynamoDB's, so the
    functions' clients made when their modules load) gets the adapter's request hooks."""
    original = botocore.session.Session.create_client
    if getattr(original, "hooked", False):
        return

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", calls.record_call)
        client.meta.events.register("after-call", calls.record_response)
        hook_active(client)  # the functions' IAM roles (iam.py), once the stack is created
        return client

    create_client.hooked = True  # type: ignore[attr-defined]
    patch(botocore.session.Session, "create_client", create_client)


def share_api_models() -> None:
    """One botocore data loader for every session made in this process from now on.

    A Lambda sandbox makes its sessions once; here every function is loaded afresh many times
    (each test, each local stack), and each fresh PynamoDB connection or boto3 session loads
    the API models again: DynamoDB's and the others' JSON, parsed into OrderedDicts, about
    25 ms a file. That was about half of the integration tests' time. A loader caches what it
    loaded, so sessions sharing one parse each model once; botocore hands a loader's cached
    models to every client of its session already, so clients of one session share them today.
    moto's own loader (moto.core.loaders, which merges moto's extras into its models) is a
    different instance and stays apart."""
    import botocore.loaders

    original = botocore.loaders.create_loader
    if getattr(botocore.session.create_loader, "shared", False):
        return

    @functools.cache
    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return original(search_path_string)

    create_loader.shared = True  # type: ignore[attr-defined]
    patch(botocore.session, "create_loader", create_loader)
