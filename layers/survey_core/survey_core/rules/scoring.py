"""Survey metrics: NPS, CSAT and CES from score histograms, each with its 95 % margin of error.

Pure functions: the report and the tests compute from histograms (score -> count), which is
exactly what the aggregate counters store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from msgspec import Struct

Metric = Literal["nps", "csat", "ces"]
METRICS: tuple[Metric, ...] = ("nps", "csat", "ces")
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
Z_95 = 1.959963984540054


class ScoreOutOfRange(ValueError):
    """A score outside its metric's scale."""


def check_score(metric: str, score: int) -> int:
    low, high = scale_of(metric)
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ScoreOutOfRange(f"{metric} score must be an integer from {low} to {high}")
    return score


def scale_of(metric: str) -> tuple[int, int]:
    try:
        return SCALES[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}") from None


def nps_category(score: int) -> Literal["promoter", "passive", "detractor"]:
    check_score("nps", score)
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def _count(histogram: Mapping[int, int]) -> int:
    return sum(histogram.values())


class NpsSummary(Struct, frozen=True):
    n: int
    promoters: int
    passives: int
    detractors: int
    score: float  # -100 .. +100
    margin: float  # 95 % margin of error, in NPS points

    @property
    def promoters_pct(self) -> float:
        return 100.0 * self.promoters / self.n if self.n else 0.0

    @property
    def passives_pct(self) -> float:
        return 100.0 * self.passives / self.n if self.n else 0.0

    @property
    def detractors_pct(self) -> float:
        return 100.0 * self.detractors / self.n if self.n else 0.0


def nps(histogram: Mapping[int, int]) -> NpsSummary:
    """NPS = %promoters - %detractors.

    Each answer is +1 (promoter), 0 (passive) or -1 (detractor); NPS is 100 times their mean,
    so its variance is p + d - (p - d)^2 and the margin is z * sqrt(variance / n).
    """
    n = _count(histogram)
    promoters = sum(c for s, c in histogram.items() if s >= 9)
    detractors = sum(c for s, c in histogram.items() if s <= 6)
    passives = n - promoters - detractors
    if n == 0:
        return NpsSummary(0, 0, 0, 0, 0.0, 0.0)
    p, d = promoters / n, detractors / n
    variance = p + d - (p - d) ** 2
    return NpsSummary(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        score=100.0 * (p - d),
        margin=100.0 * Z_95 * math.sqrt(variance / n),
    )


class CsatSummary(Struct, frozen=True):
    n: int
    satisfied_pct: float  # share of 4 and 5
    mean: float
    margin: float  # 95 % margin of the satisfied share, in percentage points


def csat(histogram: Mapping[int, int]) -> CsatSummary:
    n = _count(histogram)
    if n == 0:
        return CsatSummary(0, 0.0, 0.0, 0.0)
    share = sum(c for s, c in histogram.items() if s >= 4) / n
    mean = sum(s * c for s, c in histogram.items()) / n
    return CsatSummary(n, 100.0 * share, mean, share_margin(share, n))


def share_margin(share: float, n: int) -> float:
    """95 % margin of a share (0..1) of n answers, in percentage points (normal approximation)."""
    return 100.0 * Z_95 * math.sqrt(share * (1 - share) / n) if n else 0.0


class CesSummary(Struct, frozen=True):
    n: int
    mean: float
    margin: float  # 95 % margin of the mean
    high_effort_pct: float  # share of 1-3 on the 1-7 "it was easy" scale


def ces(histogram: Mapping[int, int]) -> CesSummary:
    n = _count(histogram)
    if n == 0:
        return CesSummary(0, 0.0, 0.0, 0.0)
    mean = sum(s * c for s, c in histogram.items()) / n
    squares = sum(c * (s - mean) ** 2 for s, c in histogram.items())
    variance = squares / (n - 1) if n > 1 else 0.0
    high_effort = sum(c for s, c in histogram.items() if s <= 3) / n
    return CesSummary(n, mean, Z_95 * math.sqrt(variance / n), 100.0 * high_effort)
