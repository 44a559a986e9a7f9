"""Counters: anonymous counts per survey, series, day and combination of segment values, kept
up to date as messages go and answers come (the report and the results view read only these)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def segment_of(segment: Mapping[str, Any]) -> dict[str, str]:
    """The segment as the counters keep it: its attributes with a value, as text."""
    return {str(name): str(value) for name, value in sorted(segment.items()) if value}


def combination_key(segment: Mapping[str, Any]) -> str:
    """A short, unambiguous name of one combination of segment values: the first 96 bits of
    the SHA-256 of its canonical JSON (values may hold any character, so no separator would
    do; the item keeps the segment itself)."""
    canonical = json.dumps(segment_of(segment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def counter_bucket(day: str, segment: Mapping[str, Any]) -> str:
    return f"{day}#{combination_key(segment)}"


@dataclass(frozen=True)
class Counts:
    """Anonymous counts to add to one counter: one series, one day, one combination of
    segment values (the report adds the combinations up by segment key and scope)."""

    series: str  # "{survey}#sent", "{survey}#responses", "{survey}#escalations", "{survey}#nps"
    day: str
    segment: Mapping[str, Any]
    add: Mapping[str, int]  # counter attribute -> amount (negative moves a count away)


def histogram_moves(
    old: Mapping[str, int], new: Mapping[str, int]
) -> list[tuple[str, int | None, int]]:
    """(metric, old score or None, new score) for every metric whose count must move: a
    response counts once per metric, and a changed score moves its one count."""
    return [
        (metric, old.get(metric), score)
        for metric, score in new.items()
        if old.get(metric) != score
    ]
