"""Benchmark: the survey lifecycle's state transitions per survey (Step Functions Standard bills
each one), counted from each execution's history on the local stack: every state entered plus
every retried task attempt. The three standard scenarios are held to at most 4; a survey never
answered runs the whole ladder, so it is over that with more than one rung."""

from __future__ import annotations

import sys
from typing import Any

from bench.summary import INFO, Row, cli, verdict

PRICE_PER_TRANSITION = 0.025 / 1000  # USD, Standard workflows (eu-north-1, 2026-11)
TARGET_TRANSITIONS = 4
STANDARD = ("answered after the invitation", "answered after the first reminder", "never answered")


def run(time_scale: float = 14400.0) -> dict[str, Any]:
    from infra.local.ladder import Script, run_scripts
    from infra.local.process import running_stack

    scripts = [
        Script("answered after the invitation", answer_after=1),
        Script("answered after the first reminder", answer_after=2),
        Script("answered after the last reminder", answer_after=3),
        Script("never answered"),
        Script("invitation email bounced, never answered", bounce_first_email=True),
    ]
    # Virtual time: the clock jumps from deadline to deadline, so the figures do not depend on
    # the machine's load. Monday 09:00 in Helsinki.
    with running_stack(
        time_scale=time_scale,
        start_time="2026-11-16T07:00:00+00:00",
        log_name="bench-lifecycle.log",
        virtual_time=True,
    ) as info:
        outcomes = run_scripts(info, scripts)
    scenarios = {
        name: {
            "emails": len(o.emails),
            "sms": len(o.sms),
            "transitions": o.transitions,
            "states": o.states,
            "retries": o.retries,
            "status": o.status,
            "usd_per_1000": round(o.transitions * PRICE_PER_TRANSITION * 1000, 4),
        }
        for name, o in outcomes.items()
    }
    return {"usd_per_transition": PRICE_PER_TRANSITION, "scenarios": scenarios}


def summary(result: dict[str, Any]) -> list[Row]:
    rows = []
    for name, scenario in result["scenarios"].items():
        standard, transitions = name in STANDARD, scenario["transitions"]
        rows.append(
            Row(
                "lifecycle",
                f"state transitions: {name}",
                f"{transitions} (messages: {scenario['emails']} email + {scenario['sms']} SMS; "
                f"{scenario['status']})",
                f"<= {TARGET_TRANSITIONS}" if standard else "-",
                verdict(transitions, TARGET_TRANSITIONS) if standard else INFO,
                transitions,
                "transitions",
            )
        )
    return rows


if __name__ == "__main__":
    sys.exit(cli(run))
