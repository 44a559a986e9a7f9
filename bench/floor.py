"""The cost benchmarks' runner: a path and its floor (the AWS calls it must make) interleaved
repetition by repetition on the local stack, so machine noise hits them alike."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from bench.summary import Row, ratio_text, verdict


@contextmanager
def recorded_calls() -> Iterator[list[dict[str, Any]]]:
    """Every AWS API call made in this process, whatever session made it, as the local stack
    records the functions' (GET /_local/function-calls): service, operation, params and response
    (None if the call failed). One per API call, as Lambda's client makes it: the SDK's retries
    of a call are not counted again."""
    from botocore.client import BaseClient

    calls: list[dict[str, Any]] = []
    original = BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        call = {
            "service": self.meta.service_model.service_name,
            "operation": operation,
            "params": dict(params),
            "response": None,
        }
        calls.append(call)
        call["response"] = original(self, operation, params)
        return call["response"]

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls


class StackRequests:
    """The AWS requests the local stack's functions make (GET /_local/function-calls, which
    numbers them), read in order: each read returns only what is new."""

    def __init__(self, local: Any) -> None:
        self.local = local
        self.calls: list[dict[str, Any]] = []
        self.read()

    def read(self) -> list[dict[str, Any]]:
        """The requests made since the last read (the first: every one kept so far)."""
        since = self.calls[-1]["seq"] if self.calls else 0
        new = list(self.local.control(f"function-calls?since={since}"))
        self.calls += new
        return new

    @contextmanager
    def of(self, function: str) -> Iterator[list[dict[str, Any]]]:
        """A window: the function's requests in it."""
        self.read()
        made: list[dict[str, Any]] = []
        yield made
        made += [c for c in self.read() if c["function"] == function]


@contextmanager
def bench_stack(
    start_time: str, log_name: str, function: str
) -> Iterator[tuple[dict[str, Any], Any]]:
    """The local stack at real time, and this process given the environment the stack gives
    `function` (read from its local Lambda) and the stack's endpoint. Yields (info, a
    LocalStackClient)."""
    from infra.local.process import running_stack
    from infra.local.scenario import LocalStackClient

    with running_stack(time_scale=1, start_time=start_time, log_name=log_name) as info:
        local = LocalStackClient(info)
        name = info["functions"][function]
        found = local.client("lambda").get_function_configuration(FunctionName=name)
        os.environ.update({k: str(v) for k, v in found["Environment"]["Variables"].items()})
        os.environ.update(
            AWS_REGION=info["region"],
            AWS_DEFAULT_REGION=info["region"],
            AWS_ENDPOINT_URL=info["endpoint_url"],
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - the local stack accepts any
            POWERTOOLS_TRACE_DISABLED="true",
        )
        yield info, local


def settled(local: Any, within_s: float = 60.0) -> None:
    """Wait until the local stack has no work of its own in flight (GET /_local/working),
    polling often: it runs between every two timed steps."""
    from infra.local.scenario import wait_for

    def quiet() -> bool:
        return local.control("working")["working"] == 0

    wait_for("the local stack to settle", quiet, within_s, interval=0.002)


def stored_item(dynamodb: Any, table: str, key: Mapping[str, Any]) -> dict[str, Any]:
    """An item as the path under test stored it (read consistently), in DynamoDB's attribute
    values: a floor writes the same item, for an item's size is part of a request's cost."""
    found = dynamodb.get_item(TableName=table, Key=attribute_values(key), ConsistentRead=True)
    return dict(found["Item"])


def attribute_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as boto3 writes them: {"a": "x"} is {"a": {"S": "x"}}."""
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    return {name: serialize(value) for name, value in values.items()}


@dataclass(frozen=True)
class MeasuredPath:
    name: str
    requests: Counter[str]  # AWS requests in all, by operation
    timings_ms: list[float]  # one per repetition


Step = Callable[[int], None]  # one repetition n of a path
Counting = Callable[[], AbstractContextManager[list[dict[str, Any]]]]


def interleave(
    paths: dict[str, Step],
    repetitions: int,
    counters: Mapping[str, Counting] | None = None,
    settle: Callable[[], None] = lambda: None,
) -> list[MeasuredPath]:
    """Each path once per repetition, timed; its requests counted in this process, or by its
    own counter in counters. Each is run once first (n = -1), not counted: its clients made,
    as in a running Lambda. settle() runs before each step, untimed: the work one step left
    to the stack (stream records, the lifecycle) must not land in the next one's time."""
    for step in paths.values():
        step(-1)
    found = [MeasuredPath(name, Counter(), []) for name in paths]
    for n in range(repetitions):
        for path, step in zip(found, paths.values(), strict=True):
            settle()
            with (counters or {}).get(path.name, recorded_calls)() as made:
                began = time.perf_counter()
                step(n)
                path.timings_ms.append((time.perf_counter() - began) * 1000)
            path.requests.update(c["operation"] for c in made)
    return found


def _by_quarter(measured: MeasuredPath, floor: MeasuredPath) -> list[float]:
    """The median ratio in each quarter of the run (a drift shows as a trend)."""
    quarter = max(1, len(measured.timings_ms) // 4)
    return [
        statistics.median(measured.timings_ms[i : i + quarter])
        / statistics.median(floor.timings_ms[i : i + quarter])
        for i in range(0, len(measured.timings_ms) - quarter + 1, quarter)
    ]


def against_floor(
    measured: MeasuredPath, floor: MeasuredPath, target_ratio: float
) -> dict[str, Any]:
    ratio = statistics.median(measured.timings_ms) / statistics.median(floor.timings_ms)

    def path(p: MeasuredPath) -> dict[str, Any]:
        return {
            "name": p.name,
            "calls_each": round(p.requests.total() / len(p.timings_ms), 2),
            "median_ms": round(statistics.median(p.timings_ms), 2),
            "p95_ms": round(statistics.quantiles(p.timings_ms, n=20)[-1], 2),
        }

    quarters = _by_quarter(measured, floor)
    print("\nratio by quarter of the run: " + ", ".join(f"{r:.2f}" for r in quarters))
    return {
        "repetitions": len(measured.timings_ms),
        "measured": path(measured),
        "floor": path(floor),
        "ratio_median": round(ratio, 3),
        "ratio_by_quarter": [round(r, 3) for r in quarters],
        "target_ratio": target_ratio,
        "verdict": verdict(ratio, target_ratio),
    }


def floor_row(bench: str, figure: str, result: dict[str, Any]) -> Row:
    """One summary line for a path measured against its floor."""
    measured, floor = result["measured"], result["floor"]
    value = (
        f"{ratio_text(result['ratio_median'], result['target_ratio'])}x floor: "
        f"{measured['calls_each']:g} calls, "
        f"{measured['median_ms']:.1f} ms vs {floor['calls_each']:g} calls, "
        f"{floor['median_ms']:.1f} ms (median of {result['repetitions']})"
    )
    target = f"<= {result['target_ratio']}x floor (median)"
    return Row(bench, figure, value, target, result["verdict"], result["ratio_median"], "x floor")
