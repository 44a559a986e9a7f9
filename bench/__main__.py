"""`make bench`: every benchmark, each in its own process, its table printed as it goes; then
one summary table (figure, value, target, verdict) and all figures as JSON.

    .venv/bin/python -m bench [--quick] [--json .bench/results.json] [--only NAME ...]
                              [--skip NAME ...]

Benchmarks: cold_start, packages (both need `make build`), trigger_cost, collect_cost,
report_reads, lifecycle, cost_model, e2e, analytics. --quick: fewer repetitions and events, for
a smoke run (its figures are noisier; the JSON says quick). Exit 1 if a benchmark failed to run;
a figure over its target is reported, not an error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.summary import (
    ERROR,
    Row,
    document,
    load_average,
    machine_facts,
    summary_table,
    worst,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO_ROOT / ".bench" / "results.json"


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return f"bench.{self.name}"


BENCHES = (
    Bench("cold_start", ("--repeats", "15"), ("--repeats", "3", "--breakdown-runs", "1")),
    Bench("packages"),
    Bench("trigger_cost", ("--events", "200"), ("--events", "20")),
    Bench("collect_cost", ("--answers", "200"), ("--answers", "20")),
    Bench("report_reads", ("--sizes", "1000", "10000", "100000"), ("--sizes", "1000", "10000")),
    Bench("lifecycle"),
    Bench("cost_model"),
    Bench("e2e"),
    Bench("analytics", (), ("--sizes", "100000", "--lag-answers", "3")),
)
NAMES = tuple(b.name for b in BENCHES)


def run_bench(bench: Bench, quick: bool, scratch: Path) -> dict[str, Any]:
    """Run one benchmark as `python -m bench.<name> ... --json FILE`; its output streams."""
    out = scratch / f"{bench.name}.json"
    command = [sys.executable, "-m", bench.module, *(bench.quick_args if quick else bench.args)]
    print(f"\n=== {bench.name}: {' '.join(command[1:])}", flush=True)
    began = time.perf_counter()
    done = subprocess.run([*command, "--json", str(out)], cwd=REPO_ROOT, check=False)  # noqa: S603
    seconds = round(time.perf_counter() - began, 1)
    entry: dict[str, Any] = {
        "command": command[1:],
        "seconds": seconds,
        "exit_code": done.returncode,
    }
    if out.is_file():
        entry["result"] = json.loads(out.read_text(encoding="utf-8"))
    entry["ok"] = done.returncode == 0 and "result" in entry
    if not entry["ok"]:
        entry["error"] = f"exit code {done.returncode}" + ("" if out.is_file() else ", no figures")
    print(f"=== {bench.name}: {seconds:.0f} s" + ("" if entry["ok"] else f", {entry['error']}"))
    return entry


def rows_of(name: str, entry: dict[str, Any]) -> list[Row]:
    if not entry.get("ok"):
        return [Row(name, name, f"did not run: {entry.get('error', 'not run')}", "-", ERROR)]
    try:
        module = importlib.import_module(f"bench.{name}")
        rows: list[Row] = module.summary(entry["result"])
    except Exception as error:  # a summary bug must not lose the other figures
        return [Row(name, name, f"summary failed: {type(error).__name__}: {error}", "-", ERROR)]
    return rows


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    changed = [line for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_files": len(changed)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=", ".join(NAMES))
    parser.add_argument("--skip", nargs="+", choices=NAMES, metavar="NAME", default=[])
    args = parser.parse_args(argv)
    selected = [b for b in BENCHES if (not args.only or b.name in args.only)]
    selected = [b for b in selected if b.name not in args.skip]
    started = datetime.now(UTC)
    machine = {**machine_facts(), "git": _git()}
    benches: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for bench in selected:
            benches[bench.name] = run_bench(bench, args.quick, Path(scratch))
    rows = [row for name, entry in benches.items() for row in rows_of(name, entry)]
    machine["load_average_at_end"] = load_average()
    cold = benches.get("cold_start", {}).get("result", {})
    if cold:
        machine["python_cold_start"] = cold.get("python")
    result = document(
        machine=machine,
        benches=benches,
        rows=rows,
        command=[Path(sys.executable).name, "-m", "bench", *(argv or sys.argv[1:])],
        quick=args.quick,
        started=started,
        finished=datetime.now(UTC),
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_summary(rows, machine, args.json, args.quick)
    return 1 if worst(r.verdict for r in rows) == ERROR else 0


def print_summary(rows: list[Row], machine: dict[str, Any], path: Path, quick: bool) -> None:
    print("\n\nsummary" + (" (--quick: fewer repetitions, noisier figures)" if quick else ""))
    print()
    print(summary_table(rows))
    lambda_python = (machine.get("python_cold_start") or {}).get("version", "-")
    print(
        f"\nmachine: {machine['cpu_model']}, {machine['cpu_count']} CPUs, {machine['memory']}, "
        f"python {machine['python']} (cold start: {lambda_python}); load average at start "
        f"{machine['load_average_at_start']}, at end {machine['load_average_at_end']} "
        "(other processes may have run meanwhile)"
    )
    over = [r.figure for r in rows if r.verdict not in ("ok", "info")]
    print(f"over target or failed: {len(over)} of {len(rows)} figures")
    print(f"figures written to {path}")


if __name__ == "__main__":
    sys.exit(main())
