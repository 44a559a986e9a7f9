"""Benchmark: wall time of the end-to-end scenario on the local stack (what `make demo` runs).

The local stack is started from template.yaml (moto, the adapter, the real handlers) and the
tracer scenario runs once through it: purchase event -> invitation email -> SMS reminder ->
answer -> stored -> lifecycle ended -> callback task -> follow-up -> report mailed -> bad input.
Start-up (until the stack is ready), each stage, the whole scenario and the shut-down are timed
apart. Waits run `time_scale` times faster (the demo's 14,400: the 24 h reminder takes 6 s), so
the scenario's time is mostly the scaled waits plus the work.

    .venv/bin/python -m bench.e2e [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.summary import FAILED, INFO, OK, Row, format_table, write_json

START_TIME = "2026-11-16T09:00:00+02:00"  # the demo's: Monday morning in Helsinki
TIME_SCALE = 14400.0


def run(time_scale: float = TIME_SCALE) -> dict[str, Any]:
    from infra.local.process import running_stack
    from infra.local.scenario import TracerScenario

    stage_seconds: list[float] = []

    class TimedScenario(TracerScenario):
        def _stage(self, name: str, run: Callable[[], str]) -> None:
            began = time.perf_counter()
            super()._stage(name, run)
            stage_seconds.append(time.perf_counter() - began)

    began = time.perf_counter()
    with running_stack(
        time_scale=time_scale, start_time=START_TIME, log_name="bench-e2e.log"
    ) as info:
        started = time.perf_counter()
        result = TimedScenario(info, score=3).run()
        finished = time.perf_counter()
    stopped = time.perf_counter()
    figures = {
        "time_scale": time_scale,
        "stack_start_s": round(started - began, 2),
        "scenario_s": round(finished - started, 2),
        "stack_stop_s": round(stopped - finished, 2),
        "ok": result.ok,
        "stages": [
            {"name": s.name, "ok": s.ok, "seconds": round(seconds, 2), "detail": s.detail}
            for s, seconds in zip(result.stages, stage_seconds, strict=True)
        ],
        "log": info.get("log_path"),
    }
    print_report(figures)
    return figures


def print_report(figures: dict[str, Any]) -> None:
    print(
        f"\nend-to-end: the tracer scenario (make demo) on the local stack, waits "
        f"{figures['time_scale']:g}x faster\n"
    )
    rows = [
        [s["name"], "ok" if s["ok"] else "FAIL", f"{s['seconds']:.2f}"] for s in figures["stages"]
    ]
    print(format_table(("stage", "result", "seconds"), rows, align="llr"))
    print(
        f"\nstack start-up {figures['stack_start_s']:.2f} s, scenario "
        f"{figures['scenario_s']:.2f} s, shut-down {figures['stack_stop_s']:.2f} s; "
        + ("every stage ok" if figures["ok"] else f"a stage FAILED (log: {figures['log']})")
    )


def summary(result: dict[str, Any]) -> list[Row]:
    stages = result["stages"]
    passed = sum(1 for s in stages if s["ok"])
    return [
        Row("e2e", "local stack start-up", f"{result['stack_start_s']:.2f} s",
            number=result["stack_start_s"], unit="s"),
        Row("e2e", f"end-to-end scenario wall time (waits {result['time_scale']:g}x faster)",
            f"{result['scenario_s']:.2f} s, {passed}/{len(stages)} stages ok",
            "every stage ok", OK if result["ok"] else FAILED,
            result["scenario_s"], "s"),
        Row("e2e", "local stack shut-down", f"{result['stack_stop_s']:.2f} s", verdict=INFO,
            number=result["stack_stop_s"], unit="s"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    result = run(args.time_scale)
    write_json(args.json, result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
