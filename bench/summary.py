"""The pure parts of `python -m bench`: ratios and verdicts, the summary table, the JSON
document and the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OK = "ok"
OVER = "OVER TARGET"
INFO = "info"
ERROR = "ERROR"
FAILED = "FAILED"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Row:
    """One line of the summary: a figure, its value (as text and as a number), the target and
    the verdict (ok, OVER TARGET, info when there is no target, ERROR, FAILED)."""

    bench: str
    figure: str
    value: str
    target: str = "-"
    verdict: str = INFO
    number: float | None = None
    unit: str = ""


def ratio(value: float, floor: float) -> float:
    if floor <= 0:
        raise ValueError(f"floor must be positive, got {floor}")
    return value / floor


def verdict(value: float, target: float) -> str:
    """ok when value <= target (every target here is an upper bound)."""
    return OK if value <= target else OVER


def ratio_text(value: float, target: float) -> str:
    """A ratio to two decimals, or three when two would show it equal to its target."""
    text = f"{value:.2f}"
    return f"{value:.3f}" if text == f"{target:.2f}" and value != target else text


def worst(verdicts: Iterable[str]) -> str:
    """The verdict of several figures: any ERROR, FAILED or OVER TARGET wins over ok / info."""
    listed = list(verdicts)
    for bad in (ERROR, FAILED, OVER):
        if bad in listed:
            return bad
    return OK if OK in listed else INFO


def median_ms(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("no samples")
    return float(statistics.median(samples))


def stats_ms(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "median_ms": round(median_ms(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "samples_ms": [round(s, 2) for s in samples],
    }


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    """A Markdown table padded to its widest cells. align: one letter per column, l or r
    (missing letters: l)."""
    body = [[str(cell) for cell in row] for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row {row} has {len(row)} cells, headers {len(headers)}")
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    right = [i < len(align) and align[i] == "r" for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)]
    return "\n".join([line(headers), line(rule), *(line(r) for r in body)])


def summary_table(rows: Iterable[Row]) -> str:
    return format_table(
        ("figure", "value", "target", "verdict"),
        ((r.figure, r.value, r.target, r.verdict) for r in rows),
    )


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
    """The JSON written by `python -m bench`: the summary, then each bench's own figures."""
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


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_facts() -> dict[str, Any]:
    memory = _memory_bytes()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
        "memory": human_bytes(memory) if memory else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "load_average_at_start": load_average(),
    }


def write_json(path: Path | None, result: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
