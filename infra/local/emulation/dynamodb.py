"""DynamoDB: moto's requests run one at a time, as atomic as DynamoDB's."""

from __future__ import annotations

import threading
from typing import Any

from .patching import patch

_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """Run moto's DynamoDB requests one at a time.

    DynamoDB applies each write, condition and transaction atomically; moto's backend is plain
    dicts without locks (concurrent transactions fail with "dictionary changed size during
    iteration" or interleave a condition check with another write). One lock restores the
    atomicity that concurrency tests rely on. Idempotent.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "serialized", False):
        return

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action.serialized = True  # type: ignore[attr-defined]
    patch(DynamoHandler, "call_action", call_action)
