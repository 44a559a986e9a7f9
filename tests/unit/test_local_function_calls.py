"""The local stack's record of the functions' AWS requests (/_local/function-calls), read whole
or after a sequence number, as a bench reads its windows."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from infra.local.emulation import clients

pytestmark = pytest.mark.unit


def _model(service: str, operation: str) -> Any:
    return SimpleNamespace(service_model=SimpleNamespace(service_name=service), name=operation)


def test_requests_are_read_whole_or_after_a_sequence_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given three requests made from inside handlers, and one from outside any
    calls = clients.FunctionCalls()
    monkeypatch.setattr(clients, "calling_function", lambda: "CollectFunction")
    for operation in ("Query", "GetItem", "TransactWriteItems"):
        calls.record_call({"TableName": "t"}, _model("dynamodb", operation), {})
    monkeypatch.setattr(clients, "calling_function", lambda: None)
    calls.record_call({}, _model("events", "PutEvents"), {})
    # Then all are numbered in order, and a window after #1 holds the two after it
    assert [(c["seq"], c["operation"]) for c in calls.records()] == [
        (1, "Query"),
        (2, "GetItem"),
        (3, "TransactWriteItems"),
    ]
    assert [c["seq"] for c in calls.records(since=1)] == [2, 3]
    assert calls.records(since=3) == []
