"""DynamoDB: moto's requests run one at a time, as atomic as DynamoDB's; an update expression
is parsed once."""

from __future__ import annotations

import functools
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


def parse_each_update_expression_once() -> None:
    """moto parses an UpdateExpression twice per update (the request handler to check the
    names and values it uses, the backend to validate and run it), each item of a transaction
    too: py-spy on the local stack during 200 concurrent answers found parsing 3 %
    of its CPU, the counters' sixteen updates per message sent repeating the same few texts.
    The parsed tree is kept per text: nothing changes it (moto's validator works on a deep
    copy, the handler only reads it). An expression that does not parse raises every time, as
    before. Idempotent."""
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    original = UpdateExpressionParser.make
    if getattr(original, "parses_once", False):
        return

    @functools.lru_cache(maxsize=1024)
    def parsed(expression: str) -> Any:
        return original(expression)

    def make(cls: Any, expression_str: str) -> Any:
        return parsed(expression_str)

    make.parses_once = True  # type: ignore[attr-defined]
    patch(UpdateExpressionParser, "make", classmethod(make))


def back_up_transaction_items() -> None:
    """moto backs a table up before a transaction (to roll it back if one item's condition
    fails) by deep-copying the whole table once per item that writes to it: an answer's
    transaction of 16 counter items copied the growing counters table 16 times, and 200
    concurrent answers took over a minute of CPU. Here a transaction backs up only the items it
    names (a copy of each, or that it was absent), and a cancelled one puts exactly those back:
    what DynamoDB's all-or-nothing means, at the cost of the items written. moto's own copy of
    a table then returns the table itself, so its rollback (assigning the copy back) changes
    nothing. A transaction whose keys cannot be read (moto answers it with its own error) keeps
    moto's whole-table copies. Requests run one at a time (serialize_dynamodb). Idempotent."""
    import copy as copy_module

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "backs_up_items", False):
        return
    state = threading.local()

    class _TablesBackedUpByItem:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if getattr(state, "items_backed_up", False) and isinstance(value, Table):
                return value
            return copy_module.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            backups = _touched_items(self, transact_items)
        except Exception:  # moto answers the malformed request itself
            original(self, transact_items)
            return
        state.items_backed_up = True
        try:
            original(self, transact_items)
        except Exception:
            _put_back(backups)
            raise
        finally:
            state.items_backed_up = False

    transact_write_items.backs_up_items = True  # type: ignore[attr-defined]
    patch(models, "copy", _TablesBackedUpByItem())
    patch(DynamoDBBackend, "transact_write_items", transact_write_items)


def _touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(table, hash, range, a copy of the item or None) for each item a transaction names, in
    order; raises when a key cannot be read."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables[operation["TableName"]]
        key = operation["Item"] if "Item" in operation else operation["Key"]
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
        item = table.get_item(hash_value, range_value)
        found.append((table, hash_value, range_value, copy.deepcopy(item)))
    return found


def _put_back(backups: list[tuple[Any, ...]]) -> None:
    """Each item as it was before the transaction, the last-named first (an item named twice
    ends as it was before the first)."""
    for table, hash_value, range_value, item in reversed(backups):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
