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


def test_the_stack_is_working_while_a_function_runs_and_not_for_the_request_asking() -> None:
    """/_local/working: what a bench waits for between timed steps. A function running counts;
    the HTTP request that asks (served, so counted by idle()) does not."""
    from infra.local.adapter import LocalAdapter

    adapter = LocalAdapter("eu-north-1", 1.0)
    seen: list[int] = []

    def run(event: Any) -> Any:
        seen.append(adapter.working)
        return SimpleNamespace(result=None, errored=False, error_type=None, ms=1.0)

    function = SimpleNamespace(invoke=run, source=SimpleNamespace(logical_id="OutboxFunction"))
    try:
        with adapter.serving():  # the asking request itself
            assert adapter.working == 0 and not adapter.idle()
        adapter.invoke(function, {})  # type: ignore[arg-type]
        assert seen == [1] and adapter.working == 0
    finally:
        adapter.close()
