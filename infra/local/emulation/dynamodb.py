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


def back_up_each_table_once_per_transaction() -> None:
    """moto backs a table up before a transaction (to roll it back if one item's condition
    fails) by deep-copying the whole table once per item that writes to it: an answer's
    transaction of 16 counter items copied the growing counters table 16 times, and 200
    concurrent answers took over a minute of CPU. Within one transaction (requests run one at
    a time: serialize_dynamodb) those copies are all of the same state, so the first serves
    as the backup for the rest. Only tables are shared this way; every other copy moto makes
    is its own, as before. Idempotent."""
    import copy as copy_module

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "backs_up_once", False):
        return
    backups = threading.local()

    class _CopyingTablesOnce:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            made: dict[int, Any] | None = getattr(backups, "made", None)
            if made is None or not isinstance(value, Table):
                return copy_module.deepcopy(value, memo)
            if id(value) not in made:
                made[id(value)] = copy_module.deepcopy(value, memo)
            return made[id(value)]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups.made = {}
        try:
            original(self, transact_items)
        finally:
            backups.made = None

    transact_write_items.backs_up_once = True  # type: ignore[attr-defined]
    patch(models, "copy", _CopyingTablesOnce())
    patch(DynamoDBBackend, "transact_write_items", transact_write_items)
