"""Shared by the cost benchmarks: a path's cost next to the floor of the AWS calls it must make."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class MeasuredPath:
    name: str
    calls: int  # AWS requests in all
    timings_ms: list[float]  # one per repetition


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


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
    quarter = max(1, count // 4)
    by_quarter = [
        statistics.median(measured.timings_ms[i : i + quarter])
        / statistics.median(floor.timings_ms[i : i + quarter])
        for i in range(0, count - quarter + 1, quarter)
    ]
    print("by quarter of the run: " + ", ".join(f"{r:.2f}" for r in by_quarter))
    return ratio
