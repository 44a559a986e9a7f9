"""`make demo`: the whole survey loop on the local stack, stage by stage. Exit 1 if any fails."""

from __future__ import annotations

import sys
from typing import Any

from .process import running_stack
from .results_demo import DEMO_USERS, how_to_sign_in, signed_in_page
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
        results_ok, results_detail = _results_view(info)
    stages = [(s.name, s.ok, s.detail) for s in result.stages]
    stages.append(("results view", results_ok, results_detail))
    width = max(len(name) for name, _, _ in stages)
    for name, ok, detail in stages:
        mark = "ok  " if ok else "FAIL"
        print(f"  [{mark}] {name.ljust(width)}  {detail}")
    ok = result.ok and results_ok
    print("\nThe whole loop ran." if ok else "\nA stage failed (see above and the log).")
    print(
        "\nTo look at the results view yourself: `make local` (it adds these demo users), then\n"
        "sign in at the results view's address it prints:\n" + how_to_sign_in(info)
    )
    return 0 if ok else 1


def _results_view(info: dict[str, Any]) -> tuple[bool, str]:
    """The demo users signed in: the admin's overview counts the answer and the segments,
    comments and follow-up pages answer; the webshop manager's edited URL for another business
    area is refused. (The stack added the demo users.)"""
    status, page = signed_in_page(info, DEMO_USERS[0].email, "?period=week")
    counted = status == 200 and "n = 1" in page
    pages = {
        path: signed_in_page(info, DEMO_USERS[0].email, path)[0]
        for path in ("/segments", "/comments", "/follow-up")
    }
    refused, _ = signed_in_page(info, DEMO_USERS[1].email, "?scope=businessArea%3Dstore")
    ok = counted and refused == 403 and set(pages.values()) == {200}
    shown = ", ".join(f"{path} {status}" for path, status in pages.items())
    return ok, (
        f"{len(DEMO_USERS)} demo users; the admin's overview counts the answer"
        f" ({'yes' if counted else f'no: {status}'}), and its pages answer ({shown});"
        f" another area refused to the webshop manager ({refused})"
    )


if __name__ == "__main__":
    sys.exit(main())
