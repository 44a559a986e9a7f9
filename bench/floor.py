"""Shared by the cost benchmarks: a path's cost next to the floor of the AWS calls it must make."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.summary import Row, ratio_text

REPO_ROOT = Path(__file__).resolve().parents[1]


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


def _environment(info: dict[str, Any], physical: Callable[[str], str]) -> dict[str, str]:
    return {
        "AWS_REGION": info["region"],
        "AWS_DEFAULT_REGION": info["region"],
        "AWS_ENDPOINT_URL": info["endpoint_url"],
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "CUSTOMERS_TABLE": physical("CustomersTable"),
        "INVITATIONS_TABLE": physical("InvitationsTable"),
        "RESPONSES_TABLE": physical("ResponsesTable"),
        "AGGREGATES_TABLE": physical("AggregatesTable"),
        "ESCALATIONS_TABLE": physical("EscalationsTable"),
        "SUPPRESSIONS_TABLE": physical("SuppressionsTable"),
        "EVENT_BUS_NAME": info["event_bus_name"],
        "CUSTOMER_RETENTION_DAYS": "400",
        "INVITATION_RETENTION_DAYS": "400",
        "RESPONSE_RETENTION_DAYS": "400",
        "ESCALATION_RETENTION_DAYS": "400",
        "REPORTING_TIME_ZONE": "Europe/Helsinki",
        "STATE_MACHINE_ARN": info["outputs"]["SurveyLifecycleArn"],
        "REJECTED_EVENTS_QUEUE_URL": info["outputs"]["RejectedEventsQueueUrl"],
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@contextmanager
def bench_stack(start_time: str, log_name: str) -> Iterator[tuple[dict[str, Any], Any]]:
    """The local stack at real time, and this process set up as its functions are: the
    environment of the template's functions and survey_core on the path. Yields (info, a
    LocalStackClient)."""
    from infra.local.process import running_stack
    from infra.local.scenario import LocalStackClient

    with running_stack(time_scale=1, start_time=start_time, log_name=log_name) as info:
        local = LocalStackClient(info)
        os.environ.update(_environment(info, local.physical_id))
        sys.path.insert(0, str(REPO_ROOT / "layers" / "survey_core"))
        yield info, local


@dataclass(frozen=True)
class MeasuredPath:
    name: str
    calls: int  # AWS requests in all
    timings_ms: list[float]  # one per repetition


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def against_floor(
    measured: MeasuredPath, floor: MeasuredPath, target_ratio: float
) -> dict[str, Any]:
    """The figures print_against_floor prints, as data."""
    ratio = statistics.median(measured.timings_ms) / statistics.median(floor.timings_ms)

    def path(p: MeasuredPath) -> dict[str, Any]:
        return {
            "name": p.name,
            "calls_each": round(p.calls / len(p.timings_ms), 2),
            "median_ms": round(statistics.median(p.timings_ms), 2),
            "p95_ms": round(_p95(p.timings_ms), 2),
        }

    return {
        "repetitions": len(measured.timings_ms),
        "measured": path(measured),
        "floor": path(floor),
        "ratio_median": round(ratio, 3),
        "ratio_by_quarter": [round(r, 3) for r in _by_quarter(measured, floor)],
        "target_ratio": target_ratio,
        "verdict": "ok" if ratio <= target_ratio else "OVER TARGET",
    }


def print_against_floor(
    title: str, measured: MeasuredPath, floor: MeasuredPath, target_ratio: float
) -> float:
    """Print both paths as a table and the median ratio; returns the ratio."""
    count = len(measured.timings_ms)
    print(f"\n{title}, {count} repetitions, local endpoint\n")
    width = max(len(measured.name), len(floor.name))
    print(f"| {'path':<{width}} | calls/each | median ms | p95 ms |")
    print(f"| {'-' * width} | ---------: | --------: | -----: |")
    for path in (measured, floor):
        print(
            f"| {path.name:<{width}} | {path.calls / len(path.timings_ms):>10.1f} "
            f"| {statistics.median(path.timings_ms):>9.2f} | {_p95(path.timings_ms):>6.2f} |"
        )
    ratio = statistics.median(measured.timings_ms) / statistics.median(floor.timings_ms)
    verdict = "ok" if ratio <= target_ratio else "OVER TARGET"
    print(f"\n{measured.name.split(' ')[0]} / floor (median): {ratio:.2f}  "
          f"(target <= {target_ratio}: {verdict})")  # fmt: skip
    print("by quarter of the run: " + ", ".join(f"{r:.2f}" for r in _by_quarter(measured, floor)))
    return ratio


def _by_quarter(measured: MeasuredPath, floor: MeasuredPath) -> list[float]:
    """The median ratio in each quarter of the run (a drift shows as a trend)."""
    count = len(measured.timings_ms)
    quarter = max(1, count // 4)
    return [
        statistics.median(measured.timings_ms[i : i + quarter])
        / statistics.median(floor.timings_ms[i : i + quarter])
        for i in range(0, count - quarter + 1, quarter)
    ]


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
