"""What every benchmark shares: rows and verdicts, the one table writer, the JSON document, the
machine it ran on, and the command line of `python -m bench.<name>`."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OK, OVER, INFO, ERROR, FAILED = "ok", "OVER TARGET", "info", "ERROR", "FAILED"
SCHEMA_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    """One line of the summary; verdict: ok, OVER TARGET, info (no target), ERROR, FAILED."""

    bench: str
    figure: str
    value: str
    target: str = "-"
    verdict: str = INFO
    number: float | None = None
    unit: str = ""


def verdict(value: float, target: float) -> str:
    return OK if value <= target else OVER  # every target is an upper bound


def ratio_text(value: float, target: float) -> str:
    """Two decimals, or three when two would show the ratio equal to its target."""
    text = f"{value:.2f}"
    return f"{value:.3f}" if text == f"{target:.2f}" and value != target else text


def worst(verdicts: Iterable[str]) -> str:
    listed = list(verdicts)
    for bad in (ERROR, FAILED, OVER):
        if bad in listed:
            return bad
    return OK if OK in listed else INFO


def stats_ms(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "median_ms": round(float(statistics.median(samples)), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "samples_ms": [round(s, 2) for s in samples],
    }


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def human_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """The one table writer: Markdown padded to the widest cells; align is one letter (l or r)
    per column, l where missing."""
    body = [[str(cell) for cell in row] for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row {row} has {len(row)} cells, headers {len(headers)}")
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    right = [align[i : i + 1] == "r" for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)]
    return "\n".join([line(headers), line(rule), *(line(r) for r in body)])


def print_table(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str = ""
) -> None:
    print(f"\n{title}\n\n{format_table(headers, rows, align)}")


def summary_table(rows: Iterable[Row]) -> str:
    cells = ((r.figure, r.value, r.target, r.verdict) for r in rows)
    return format_table(("figure", "value", "target", "verdict"), cells)


def document(
    *,
    machine: Mapping[str, Any],
    benches: Mapping[str, Mapping[str, Any]],
    rows: Sequence[Row],
    command: Sequence[str],
    quick: bool,
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    """The JSON of `python -m bench`: the summary, then each bench's own figures."""
    return {
        "schema_version": SCHEMA_VERSION,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "command": list(command),
        "quick": quick,
        "machine": dict(machine),
        "verdict": worst(r.verdict for r in rows),
        "summary": [asdict(r) for r in rows],
        "benches": {name: dict(b) for name, b in benches.items()},
    }


def _proc(name: str, prefixes: tuple[str, ...]) -> str | None:
    try:
        lines = Path("/proc", name).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith(prefixes)), None
    )


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_facts() -> dict[str, Any]:
    cpu = _proc("cpuinfo", ("model name", "Hardware", "cpu model"))
    memory_kb = _proc("meminfo", ("MemTotal:",))
    memory = int(memory_kb.split()[0]) * 1024 if memory_kb else None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
        "memory": human_bytes(memory) if memory else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "load_average_at_start": load_average(),
    }


def capture(command: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """A command's output as text: git, our own interpreters, never a shell."""
    return subprocess.run(command, capture_output=True, text=True, check=False, **options)  # noqa: S603


def write_json(path: Path, result: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def cli(run: Callable[..., dict[str, Any]], argv: Sequence[str] | None = None) -> int:
    """`python -m bench.<name>`: run()'s keyword arguments are the options (repeats=15 is
    --repeats 15; a tuple takes several values, a bool is a flag), survey_core is on the path;
    run prints its own tables, then come the bench's summary rows and the --json file."""
    module = sys.modules[run.__module__]
    parser = argparse.ArgumentParser(description=(module.__doc__ or "").split("\n")[0])
    for name, parameter in inspect.signature(run).parameters.items():
        default, option = parameter.default, "--" + name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(option, action="store_true")
        elif isinstance(default, tuple):
            parser.add_argument(option, type=type(default[0]), nargs="+", default=list(default))
        else:
            kind = float if default is None else type(default)
            parser.add_argument(option, type=kind, default=default, help=f"default {default}")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = vars(parser.parse_args(argv))
    json_path = args.pop("json")
    sys.path.insert(0, str(REPO_ROOT / "layers" / "survey_core"))  # as the functions' layer
    result = run(**args)
    print("\n" + summary_table(module.summary(result)))
    if json_path:
        write_json(json_path, result)
    return 0 if result.get("ok", True) else 1
