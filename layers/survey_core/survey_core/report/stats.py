"""Statistics for the manager report: estimates with their 95 % margins, changes between two
periods that are outside the noise, and segment rankings that set small samples apart.

Pure functions over score histograms (score -> count), standard library only. The summaries
themselves come from :mod:`survey_core.rules.scoring`; this module adds what the report needs on top
and does not compute any of them a second time:

* NPS: :func:`survey_core.rules.scoring.nps` already gives the shares of promoters (9-10), passives
  (7-8) and detractors (0-6), the NPS (-100..100), n and the 95 % margin. Every answer counts
  +1 (promoter), 0 (passive) or -1 (detractor); the NPS is 100 times their mean, so with the
  shares p_P and p_D::

      var    = p_P + p_D - (p_P - p_D)^2        (per answer, on the -1..1 scale)
      margin = 100 * z * sqrt(var / n)          (NPS points)

  which is the variance of a difference of two proportions of one multinomial sample. It is
  re-exported here (:data:`nps`, :class:`NpsSummary`) so the report imports one module.
* Every margin is ``z * standard error`` with z = :data:`~survey_core.rules.scoring.Z_95`
  (1.95996..., the exact two-sided 95 % normal quantile; "1.96" rounded), so a change test
  takes the standard error as ``margin / z``: the variance scoring.py computed, not a copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from ..rules.scoring import Z_95, NpsSummary, ces, csat, nps, share_margin

__all__ = [
    "MIN_N",
    "CesStats",
    "Change",
    "CsatStats",
    "MeanEstimate",
    "NpsSummary",
    "ProportionEstimate",
    "RankedSegment",
    "Verdict",
    "ces_stats",
    "csat_stats",
    "is_small_n",
    "mean_change",
    "mean_estimate",
    "nps",
    "nps_change",
    "proportion_change",
    "rank_segments",
]

MIN_N = 30
"""A segment with fewer answers than this is flagged as a small sample and not ranked."""

Verdict = Literal["up", "down", "no significant change", "not enough data"]


def is_small_n(n: int) -> bool:
    """True when n answers are too few to rank (n < MIN_N)."""
    return n < MIN_N


# --- Estimates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProportionEstimate:
    """A share of answers in %, with two 95 % descriptions of its uncertainty.

    ``margin`` is the normal-approximation (Wald) half-width, z * sqrt(p (1 - p) / n) * 100, in
    percentage points: the "±" the report prints and the standard error the change test uses.
    It is the same formula as the CSAT margin in scoring.py. Its limit: at p = 0 or p = 1 it is
    0, and for small n it is too narrow; ``margin_reliable`` says whether n p >= 5 and
    n (1 - p) >= 5, the usual condition for the approximation.

    ``low`` and ``high`` are the Wilson score interval, in %, which stays inside 0..100 and
    does not collapse at p = 0 or 1 (12 answers all satisfied: 75.8 % .. 100 %). The report
    should print it instead of "± margin" whenever ``margin_reliable`` is False.

    With n = 0 the share is 0, the margin 0 and the interval the whole 0..100: nothing is known.
    """

    n: int
    pct: float
    margin: float
    low: float
    high: float

    @property
    def empty(self) -> bool:
        return self.n == 0

    @property
    def margin_reliable(self) -> bool:
        share = self.pct / 100.0
        return self.n * share >= 5 and self.n * (1 - share) >= 5


def _proportion(share: float, n: int) -> ProportionEstimate:
    """The estimate of a share (0..1) of n answers; the share itself comes from scoring.py."""
    if n == 0:
        return ProportionEstimate(0, 0.0, 0.0, 0.0, 100.0)
    z2 = Z_95 * Z_95
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    # At p = 0 (or 1) the bound is exactly 0 (or 1); floating point would leave 1e-15 over.
    low = 0.0 if share <= 0.0 else max(0.0, centre - half)
    high = 1.0 if share >= 1.0 else min(1.0, centre + half)
    return ProportionEstimate(
        n=n,
        pct=100.0 * share,
        margin=share_margin(share, n),
        low=100.0 * low,
        high=100.0 * high,
    )


@dataclass(frozen=True)
class MeanEstimate:
    """A mean score with its 95 % margin, z * s / sqrt(n), s the sample standard deviation.

    z rather than Student's t: it is what scoring.py uses for the CES mean, and for the samples
    the report ranks (n >= MIN_N = 30) t(0.975, 29) = 2.045 is within 5 % of 1.96. Smaller
    samples are flagged, not ranked. With n = 1 the margin is 0 (s is undefined): unknown, not
    exact; the change test refuses n < 2.
    """

    n: int
    mean: float
    margin: float

    @property
    def empty(self) -> bool:
        return self.n == 0


def mean_estimate(histogram: Mapping[int, int]) -> MeanEstimate:
    """Mean of any score histogram and its 95 % margin.

    scoring.ces computes exactly this (mean, sample variance with n - 1, z margin) for whatever
    histogram it is given; it is called rather than repeated.
    """
    summary = ces(histogram)
    return MeanEstimate(summary.n, summary.mean, summary.margin)


@dataclass(frozen=True)
class CsatStats:
    """CSAT (1-5): the share of satisfied answers (4 and 5) and the mean, each with its margin."""

    n: int
    satisfied: ProportionEstimate
    mean: MeanEstimate

    @property
    def empty(self) -> bool:
        return self.n == 0


def csat_stats(histogram: Mapping[int, int]) -> CsatStats:
    summary = csat(histogram)
    return CsatStats(
        n=summary.n,
        satisfied=_proportion(summary.satisfied_pct / 100.0, summary.n),
        mean=mean_estimate(histogram),
    )


@dataclass(frozen=True)
class CesStats:
    """CES (1-7, 7 = very easy): the mean and the share of high-effort answers (1-3)."""

    n: int
    mean: MeanEstimate
    high_effort: ProportionEstimate

    @property
    def empty(self) -> bool:
        return self.n == 0


def ces_stats(histogram: Mapping[int, int]) -> CesStats:
    summary = ces(histogram)
    return CesStats(
        n=summary.n,
        mean=MeanEstimate(summary.n, summary.mean, summary.margin),
        high_effort=_proportion(summary.high_effort_pct / 100.0, summary.n),
    )


# --- Change between two periods ----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """The change from one period to the next and whether it is outside the noise.

    ``difference`` is after - before in the metric's own unit (NPS points, percentage points or
    score points). ``z`` and ``p_value`` (two-sided) are None when the test cannot be made, and
    the verdict is then "not enough data". "up" and "down" describe the number, not whether it
    is good: a high-effort share that goes up is worse.
    """

    difference: float
    z: float | None
    p_value: float | None
    verdict: Verdict

    @property
    def significant(self) -> bool:
        return self.verdict in ("up", "down")


def _z_test(
    before: float, after: float, se_before: float, se_after: float, n_before: int, n_after: int
) -> Change:
    """Two-sided z-test of after - before with independent standard errors.

    z = (after - before) / sqrt(se_before^2 + se_after^2), p = erfc(|z| / sqrt 2), significant
    when |z| > Z_95 (alpha 0.05, the same z as the margins). z does not depend on the unit, so
    NPS points give the same z as the -1..1 scale.

    "not enough data", with z and p None, when either period has n < 2 (no variance can be
    estimated) or both standard errors are 0 (every answer alike in both periods: the normal
    approximation says nothing, and the ratio would be a division by zero).
    """
    difference = after - before
    denominator = math.sqrt(se_before**2 + se_after**2)
    if n_before < 2 or n_after < 2 or denominator == 0.0:
        return Change(difference, None, None, "not enough data")
    z = difference / denominator
    p_value = math.erfc(abs(z) / math.sqrt(2))
    if abs(z) <= Z_95:
        return Change(difference, z, p_value, "no significant change")
    return Change(difference, z, p_value, "up" if z > 0 else "down")


def _standard_error(margin: float) -> float:
    # Every margin here and in scoring.py is Z_95 * standard error.
    return margin / Z_95


def nps_change(before: NpsSummary, after: NpsSummary) -> Change:
    """NPS after vs before: z = (NPS2 - NPS1) / sqrt(var1 / n1 + var2 / n2), on the -1..1
    scale, var = p_P + p_D - (p_P - p_D)^2 of each period. ``difference`` is in NPS points."""
    return _z_test(
        before.score,
        after.score,
        _standard_error(before.margin),
        _standard_error(after.margin),
        before.n,
        after.n,
    )


def proportion_change(before: ProportionEstimate, after: ProportionEstimate) -> Change:
    """Unpooled z-test of two proportions (CSAT satisfied share, CES high-effort share):
    z = (p2 - p1) / sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2). ``difference`` is in
    percentage points."""
    return _z_test(
        before.pct,
        after.pct,
        _standard_error(before.margin),
        _standard_error(after.margin),
        before.n,
        after.n,
    )


def mean_change(before: MeanEstimate, after: MeanEstimate) -> Change:
    """Welch z approximation for two means: z = (m2 - m1) / sqrt(s1^2 / n1 + s2^2 / n2)."""
    return _z_test(
        before.mean,
        after.mean,
        _standard_error(before.margin),
        _standard_error(after.margin),
        before.n,
        after.n,
    )


# --- Ranking segments --------------------------------------------------------------------------


class Counted(Protocol):
    """Anything with a number of answers: NpsSummary, CsatStats, CesStats, the estimates."""

    @property
    def n(self) -> int: ...


S = TypeVar("S", bound=Counted)


@dataclass(frozen=True)
class RankedSegment(Generic[S]):
    """One segment in a ranking. ``rank`` is 1 for the best; None when the segment is flagged
    (n < MIN_N). ``data`` is the segment's summary, kept whole."""

    name: str
    score: float
    data: S
    rank: int | None

    @property
    def n(self) -> int:
        return self.data.n

    @property
    def flagged(self) -> bool:
        return self.rank is None


def rank_segments(
    segments: Mapping[str, S],
    score: Callable[[S], float],
    *,
    higher_is_better: bool = True,
) -> list[RankedSegment[S]]:
    """Segments best first by ``score``, those with n >= MIN_N ranked 1, 2, ...; the flagged
    ones (n < MIN_N) follow, unranked, in the same order by score, and empty ones (n = 0, whose
    score means nothing) come last. Equal scores are ordered by name; each gets its own rank.

    ``higher_is_better=False`` for a metric where less is better (the CES high-effort share).
    """
    sign = -1.0 if higher_is_better else 1.0

    def order(item: tuple[str, S]) -> tuple[bool, float, str]:
        name, data = item
        return (data.n == 0, sign * score(data), name)

    ranked = sorted(((k, v) for k, v in segments.items() if not is_small_n(v.n)), key=order)
    flagged = sorted(((k, v) for k, v in segments.items() if is_small_n(v.n)), key=order)
    return [
        RankedSegment(name, score(data), data, position)
        for position, (name, data) in enumerate(ranked, start=1)
    ] + [RankedSegment(name, score(data), data, None) for name, data in flagged]
