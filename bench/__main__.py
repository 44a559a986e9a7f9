"""`make bench`: every benchmark in its own process, then one summary table and all figures as
JSON. --quick: fewer repetitions, for a smoke run. Exit 1 if a benchmark failed to run; a
figure over its target is reported, not an error."""

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
    REPO_ROOT,
    Row,
    capture,
    document,
    load_average,
    machine_facts,
    summary_table,
    worst,
    write_json,
)

DEFAULT_JSON = REPO_ROOT / ".bench" / "results.json"


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()


BENCHES = (
    Bench("cold_start", ("--repeats", "15"), ("--repeats", "3")),
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
    """`python -m bench.<name> ... --json FILE`, its output streaming."""
    out = scratch / f"{bench.name}.json"
    command = ["-m", f"bench.{bench.name}", *(bench.quick_args if quick else bench.args)]
    print(f"\n=== {bench.name}: {' '.join(command)}", flush=True)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, *command, "--json", str(out)], cwd=REPO_ROOT)  # noqa: S603
    entry: dict[str, Any] = {
        "command": command,
        "seconds": round(time.perf_counter() - began, 1),
        "exit_code": done.returncode,
    }
    if out.is_file():
        entry["result"] = json.loads(out.read_text(encoding="utf-8"))
    entry["ok"] = done.returncode == 0 and "result" in entry
    if not entry["ok"]:
        entry["error"] = f"exit code {done.returncode}" + ("" if out.is_file() else ", no figures")
    print(
        f"=== {bench.name}: {entry['seconds']:.0f} s"
        + ("" if entry["ok"] else f", {entry['error']}")
    )
    return entry


def rows_of(name: str, entry: dict[str, Any]) -> list[Row]:
    if not entry.get("ok"):
        return [Row(name, name, f"did not run: {entry.get('error', 'not run')}", "-", ERROR)]
    try:
        rows: list[Row] = importlib.import_module(f"bench.{name}").summary(entry["result"])
    except Exception as error:  # a summary bug must not lose the other figures
        return [Row(name, name, f"summary failed: {type(error).__name__}: {error}", "-", ERROR)]
    return rows


def _git(*args: str) -> str:
    return capture(["git", *args], cwd=REPO_ROOT).stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=", ".join(NAMES))
    parser.add_argument("--skip", nargs="+", choices=NAMES, metavar="NAME", default=[])
    args = parser.parse_args(argv)
    selected = [b for b in BENCHES if (not args.only or b.name in args.only)]
    started = datetime.now(UTC)
    changed = [line for line in _git("status", "--porcelain").splitlines() if line]
    machine = {
        **machine_facts(),
        "git": {"commit": _git("rev-parse", "HEAD"), "uncommitted_files": len(changed)},
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        benches = {
            b.name: run_bench(b, args.quick, Path(scratch))
            for b in selected
            if b.name not in args.skip
        }
    rows = [row for name, entry in benches.items() for row in rows_of(name, entry)]
    machine["load_average_at_end"] = load_average()
    if benches.get("cold_start", {}).get("result"):
        machine["python_cold_start"] = benches["cold_start"]["result"].get("python")
    command = [Path(sys.executable).name, "-m", "bench", *(argv or sys.argv[1:])]
    finished = datetime.now(UTC)
    result = document(
        machine=machine,
        benches=benches,
        rows=rows,
        command=command,
        quick=args.quick,
        started=started,
        finished=finished,
    )
    write_json(args.json, result)
    print("\n\nsummary" + (" (--quick: fewer repetitions, noisier figures)" if args.quick else ""))
    print("\n" + summary_table(rows))
    lambda_python = (machine.get("python_cold_start") or {}).get("version", "-")
    print(
        f"\nmachine: {machine['cpu_model']}, {machine['cpu_count']} CPUs, {machine['memory']}, "
        f"python {machine['python']} (cold start: {lambda_python}); load average at start "
        f"{machine['load_average_at_start']}, at end {machine['load_average_at_end']} "
        "(other processes may have run meanwhile)"
    )
    over = [r.figure for r in rows if r.verdict not in ("ok", "info")]
    print(
        f"over target or failed: {len(over)} of {len(rows)} figures\nfigures written to {args.json}"
    )
    return 1 if worst(r.verdict for r in rows) == ERROR else 0


if __name__ == "__main__":
    sys.exit(main())
