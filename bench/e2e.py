"""Benchmark: wall time of the end-to-end tracer scenario (what `make demo` runs) on the local
stack, its waits `time_scale` times faster; start-up, each stage and shut-down timed apart."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench.summary import FAILED, OK, Row, cli, print_table


def run(time_scale: float = 14400.0) -> dict[str, Any]:
    from infra.local.process import running_stack
    from infra.local.scenario import TracerScenario

    stage_seconds: list[float] = []

    class TimedScenario(TracerScenario):
        def _stage(self, name: str, run: Callable[[], str]) -> None:
            began = time.perf_counter()
            super()._stage(name, run)
            stage_seconds.append(time.perf_counter() - began)

    began = time.perf_counter()
    # The demo's start: Monday morning in Helsinki
    start = "2026-11-16T09:00:00+02:00"
    with running_stack(time_scale=time_scale, start_time=start, log_name="bench-e2e.log") as info:
        started = time.perf_counter()
        result = TimedScenario(info, score=3).run()
        finished = time.perf_counter()
    stopped = time.perf_counter()
    stages = [
        {"name": s.name, "ok": s.ok, "seconds": round(seconds, 2), "detail": s.detail}
        for s, seconds in zip(result.stages, stage_seconds, strict=True)
    ]
    rows = [(s["name"], "ok" if s["ok"] else "FAIL", f"{s['seconds']:.2f}") for s in stages]
    print_table("end-to-end: the tracer scenario", ("stage", "result", "seconds"), rows, "llr")
    return {
        "time_scale": time_scale,
        "stack_start_s": round(started - began, 2),
        "scenario_s": round(finished - started, 2),
        "stack_stop_s": round(stopped - finished, 2),
        "ok": result.ok,
        "stages": stages,
        "log": info.get("log_path"),
    }


def summary(result: dict[str, Any]) -> list[Row]:
    def seconds(figure: str, key: str) -> Row:
        return Row("e2e", figure, f"{result[key]:.2f} s", number=result[key], unit="s")

    stages, scenario = result["stages"], result["scenario_s"]
    passed = sum(1 for s in stages if s["ok"])
    return [
        seconds("local stack start-up", "stack_start_s"),
        Row(
            "e2e",
            f"end-to-end scenario wall time (waits {result['time_scale']:g}x faster)",
            f"{scenario:.2f} s, {passed}/{len(stages)} stages ok",
            "every stage ok",
            OK if result["ok"] else FAILED,
            scenario,
            "s",
        ),
        seconds("local stack shut-down", "stack_stop_s"),
    ]


if __name__ == "__main__":
    sys.exit(cli(run))
