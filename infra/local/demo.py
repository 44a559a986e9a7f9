"""`make demo`: the whole survey loop on the local stack, stage by stage. Exit 1 if any fails."""

from __future__ import annotations

import sys

from .process import running_stack
from .scenario import run_tracer

# Monday morning in Helsinki; waits run 14,400x faster (the 24 h reminder delay takes 6 s).
START_TIME = "2026-11-16T09:00:00+02:00"
TIME_SCALE = 14400.0


def main() -> int:
    print("Starting the local stack from template.yaml (moto, no AWS account) ...", flush=True)
    with running_stack(time_scale=TIME_SCALE, start_time=START_TIME, log_name="demo.log") as info:
        print(f"  AWS endpoint {info['endpoint_url']}, survey pages {info['survey_url']}")
        print(f"  function logs: {info['log_path']}\n", flush=True)
        result = run_tracer(info)
    width = max(len(stage.name) for stage in result.stages)
    for stage in result.stages:
        mark = "ok  " if stage.ok else "FAIL"
        print(f"  [{mark}] {stage.name.ljust(width)}  {stage.detail}")
    print("\nThe whole loop ran." if result.ok else "\nA stage failed (see above and the log).")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
