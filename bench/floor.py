"""The cost benchmarks' runner: a path and its floor (the AWS calls it must make) interleaved
repetition by repetition on the local stack, so machine noise hits them alike."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from bench.summary import Row, format_table, ratio_text, verdict


@contextmanager
def counted_requests() -> Iterator[list[str]]:
    """Every AWS request made in this process, by operation (whatever session made it)."""
    import botocore.endpoint

    calls: list[str] = []
    original = botocore.endpoint.Endpoint.make_request

    def counting(self: Any, operation_model: Any, request_dict: Any) -> Any:
        calls.append(operation_model.name)
        return original(self, operation_model, request_dict)

    botocore.endpoint.Endpoint.make_request = counting
    try:
        yield calls
    finally:
        botocore.endpoint.Endpoint.make_request = original


@contextmanager
def bench_stack(start_time: str, log_name: str) -> Iterator[tuple[dict[str, Any], Any]]:
    """The local stack at real time, and this process set up as its functions are (their
    environment, survey_core on the path). Yields (info, a LocalStackClient)."""
    from infra.local.process import running_stack
    from infra.local.scenario import LocalStackClient

    with running_stack(time_scale=1, start_time=start_time, log_name=log_name) as info:
        local = LocalStackClient(info)
        region, outputs = info["region"], info["outputs"]
        for table in (
            "Customers",
            "Invitations",
            "Responses",
            "Aggregates",
            "Escalations",
            "Suppressions",
        ):
            os.environ[f"{table.upper()}_TABLE"] = local.physical_id(f"{table}Table")
        for kept in ("CUSTOMER", "INVITATION", "RESPONSE", "ESCALATION"):
            os.environ[f"{kept}_RETENTION_DAYS"] = "400"
        os.environ.update(
            {
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_ENDPOINT_URL": info["endpoint_url"],
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "EVENT_BUS_NAME": info["event_bus_name"],
                "REPORTING_TIME_ZONE": "Europe/Helsinki",
                "STATE_MACHINE_ARN": outputs["SurveyLifecycleArn"],
                "REJECTED_EVENTS_QUEUE_URL": outputs["RejectedEventsQueueUrl"],
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        yield info, local


@dataclass(frozen=True)
class MeasuredPath:
    name: str
    calls: int  # AWS requests in all
    timings_ms: list[float]  # one per repetition


Counting = Callable[[], AbstractContextManager[list[str]]]


def interleave(
    paths: dict[str, tuple[Callable[[int], None], Counting]], repetitions: int
) -> dict[str, tuple[list[float], Counter[str]]]:
    """Each path once per repetition, timed; its requests counted by its own counter. Each is
    run once first, not counted: its clients made, as in a running Lambda."""
    for step, _ in paths.values():
        step(-1)
    found: dict[str, tuple[list[float], Counter[str]]] = {p: ([], Counter()) for p in paths}
    for n in range(repetitions):
        for name, (step, counting) in paths.items():
            with counting() as made:
                began = time.perf_counter()
                step(n)
                found[name][0].append((time.perf_counter() - began) * 1000)
            found[name][1].update(made)
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
            "calls_each": round(p.calls / len(p.timings_ms), 2),
            "median_ms": round(statistics.median(p.timings_ms), 2),
            "p95_ms": round(statistics.quantiles(p.timings_ms, n=20)[-1], 2),
        }

    result: dict[str, Any] = {
        "repetitions": len(measured.timings_ms),
        "measured": path(measured),
        "floor": path(floor),
        "ratio_median": round(ratio, 3),
        "ratio_by_quarter": [round(r, 3) for r in _by_quarter(measured, floor)],
        "target_ratio": target_ratio,
        "verdict": verdict(ratio, target_ratio),
    }
    rows = [
        (p["name"], p["calls_each"], p["median_ms"], p["p95_ms"])
        for p in (result["measured"], result["floor"])
    ]
    print(f"\n{format_table(('path', 'calls/each', 'median ms', 'p95 ms'), rows, 'lrrr')}")
    print(
        "ratio by quarter of the run: " + ", ".join(f"{r:.2f}" for r in result["ratio_by_quarter"])
    )
    return result


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
