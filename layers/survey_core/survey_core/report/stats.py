"""Statistics for the manager report: every figure with a 95 % interval inside its scale (or
no figure at all when the answers are too few), changes between two periods called only
outside the noise, segments set apart from the rest only where the difference is significant,
and the range a trend chart should show. docs/statistics.md explains each method, with its
reference and the coverage it reaches on small samples.

Pure functions over score histograms (score -> count), standard library only. The counts
behind each figure (promoters, satisfied, high effort, the mean) come from
:mod:`survey_core.rules.scoring`; this module adds the intervals and the tests.

* Shares (CSAT satisfied %, promoters / passives / detractors %, CES high-effort %): the
  Wilson score interval (Wilson 1927; recommended by Brown, Cai & DasGupta 2001).
* NPS: the adjusted-Wald interval of Rocks (2016): 3/4 of an answer added to the promoters
  and to the detractors, 3 to n, and the variance of a difference of two multinomial shares.
* Means (CSAT 1-5, CES 1-7): the Agresti-Coull idea carried over to a bounded scale: z^2 / 2
  answers added at each end of the scale, then the normal interval of that sample. On a
  two-point scale it is the Agresti-Coull interval itself (Agresti & Coull 1998).
* Every interval is clipped to its scale: the true value lies in the scale, so clipping never
  loses coverage.

Each :class:`Interval` also carries the adjusted centre and standard error its tests use: a
change between periods and a segment against the rest of the scope are both a two-sided z
test of two independent estimates, z = (centre2 - centre1) / sqrt(se1^2 + se2^2): for NPS the
adjusted-Wald test of Lewis & Sauro (2021), for shares Agresti & Caffo (2000) (one answer
added to each side), for means the same bounded-scale adjustment as the interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

from msgspec import Struct

from ..rules.scoring import SCALES, Z_95, ces, csat, nps

__all__ = [
    "HEADLINE_SCALES",
    "MAX_RELATIVE_WIDTH",
    "MIN_ANSWERS",
    "PERCENT",
    "CesStats",
    "Change",
    "CsatStats",
    "Interval",
    "NpsStats",
    "SegmentComparison",
    "Standing",
    "Verdict",
    "ces_stats",
    "change",
    "compare_segments",
    "csat_stats",
    "headline",
    "holm",
    "mean_interval",
    "nps_interval",
    "nps_stats",
    "trend_axis",
    "wilson",
]

Z = Z_95  # the two-sided 95 % normal quantile, 1.95996...
ALPHA = 0.05  # the significance level of every test here, matching the 95 % intervals

MIN_ANSWERS = 5
"""Fewer answers than this: "too few answers", whatever the interval. Below 5 the figure
describes a few customers rather than a group (with 1-4 answers, one customer moves NPS by
20-100 points), and the approximations behind every interval here are not checked there."""

MAX_RELATIVE_WIDTH = 0.5
"""An interval wider than this share of its scale: "too few answers". A figure whose 95 %
interval spans more than half the scale (NPS -30..+70, CSAT 40..95 %) cannot tell a good
result from a bad one, so printing it would only invite a reading the data does not support."""

PERCENT = (0.0, 100.0)
# The scale of each metric's headline: NPS points, the CSAT satisfied share in %, the CES mean.
HEADLINE_SCALES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0),
    "csat": PERCENT,
    "ces": (float(SCALES["ces"][0]), float(SCALES["ces"][1])),
}

Verdict = Literal["up", "down", "no significant change", "not enough data"]
Standing = Literal["higher", "lower", "no clear difference", "too few answers"]


# --- Intervals ---------------------------------------------------------------------------------


class Interval(Struct, frozen=True):
    """A figure over n answers with its 95 % interval, in the figure's unit.

    ``value`` is the plain estimate (the NPS, the share, the mean as the answers give it);
    ``low`` .. ``high`` its 95 % interval, inside ``scale``, not necessarily symmetric around
    the value. ``centre`` and ``se`` are the adjusted estimate and standard error the tests
    use (see the module's docstring). With n = 0 nothing is known: the value is meaningless
    and the interval is the whole scale.

    ``shown`` says whether the figure is worth a number: n >= MIN_ANSWERS and an interval no
    wider than MAX_RELATIVE_WIDTH of the scale. Otherwise the report says "too few answers".
    """

    n: int
    value: float
    low: float
    high: float
    centre: float
    se: float
    scale: tuple[float, float]

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def shown(self) -> bool:
        span = self.scale[1] - self.scale[0]
        # 1e-9: a width of exactly half the scale, computed in floating point, still counts.
        return self.n >= MIN_ANSWERS and self.width <= MAX_RELATIVE_WIDTH * span + 1e-9


def _clip(value: float, scale: tuple[float, float]) -> float:
    return min(max(value, scale[0]), scale[1])


def _nothing(scale: tuple[float, float]) -> Interval:
    middle = (scale[0] + scale[1]) / 2
    return Interval(0, middle, scale[0], scale[1], middle, 0.0, scale)


def wilson(count: int, n: int) -> Interval:
    """The share count / n in %, with its Wilson score interval:

        centre = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)

    It stays inside 0..100 and does not collapse at p = 0 or 1 (12 of 12 satisfied:
    75.8 .. 100 %). The test's centre and standard error are Agresti-Caffo's,
    p~ = (count + 1) / (n + 2), se = sqrt(p~ (1 - p~) / (n + 2)).
    """
    if n <= 0:
        return _nothing(PERCENT)
    share = count / n
    z2 = Z * Z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = Z / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    # At p = 0 (or 1) the bound is exactly 0 (or 1); floating point would leave 1e-15 over.
    low = 0.0 if count <= 0 else max(0.0, centre - half)
    high = 1.0 if count >= n else min(1.0, centre + half)
    adjusted = (count + 1) / (n + 2)
    return Interval(
        n=n,
        value=100.0 * share,
        low=100.0 * low,
        high=100.0 * high,
        centre=100.0 * adjusted,
        se=100.0 * math.sqrt(adjusted * (1 - adjusted) / (n + 2)),
        scale=PERCENT,
    )


def nps_interval(promoters: int, detractors: int, n: int) -> Interval:
    """NPS = 100 (P - D) / n with the adjusted-Wald interval of Rocks (2016):

        n' = n + 3,  p' = (P + 3/4) / n',  d' = (D + 3/4) / n'
        var = p' + d' - (p' - d')^2                 (one answer: +1, 0 or -1)
        interval = 100 (p' - d' +- z sqrt(var / n')), clipped to -100..100

    The plain Wald interval (no pseudo-answers) collapses to 0 width when every answer is a
    promoter and covers the true NPS far less than 95 % of the time for small n; see
    docs/statistics.md for both, computed exactly.
    """
    scale = HEADLINE_SCALES["nps"]
    if n <= 0:
        return _nothing(scale)
    adjusted_n = n + 3
    p = (promoters + 0.75) / adjusted_n
    d = (detractors + 0.75) / adjusted_n
    se = math.sqrt((p + d - (p - d) ** 2) / adjusted_n)
    centre = p - d
    return Interval(
        n=n,
        value=100.0 * (promoters - detractors) / n,
        low=_clip(100.0 * (centre - Z * se), scale),
        high=_clip(100.0 * (centre + Z * se), scale),
        centre=100.0 * centre,
        se=100.0 * se,
        scale=scale,
    )


def mean_interval(histogram: Mapping[int, int], scale: tuple[float, float]) -> Interval:
    """The mean score with an interval that stays inside the scale and never collapses:

        add z^2 / 2 answers at the scale's lowest and z^2 / 2 at its highest score,
        n~ = n + z^2, centre = the mean of that sample, var = its variance (divisor n~),
        interval = centre +- z sqrt(var / n~), clipped to the scale.

    On a scale of two points this is exactly the Agresti-Coull interval for a proportion. The
    mean -+ z s / sqrt(n) interval the report used before (and Student's t alike) has width 0
    whenever every answer is the same (five answers of 5: "5.0 +- 0.0"), and held the mean of
    a CSAT with 98 % fives only 9-45 % of the time at n = 5..30, where this one stays at or
    above 95 % (tools/interval_coverage.py, docs/statistics.md).
    """
    n = sum(histogram.values())
    if n <= 0:
        return _nothing(scale)
    value = sum(score * count for score, count in histogram.items()) / n
    pseudo = Z * Z / 2
    weights: dict[float, float] = {float(s): float(c) for s, c in histogram.items()}
    for end in scale:
        weights[end] = weights.get(end, 0.0) + pseudo
    total = n + 2 * pseudo
    centre = sum(s * w for s, w in weights.items()) / total
    variance = sum(w * (s - centre) ** 2 for s, w in weights.items()) / total
    se = math.sqrt(variance / total)
    return Interval(
        n=n,
        value=value,
        low=_clip(centre - Z * se, scale),
        high=_clip(centre + Z * se, scale),
        centre=centre,
        se=se,
        scale=scale,
    )


def _count(share_pct: float, n: int) -> int:
    """The count behind a share that scoring.py gives in % (100 * count / n): exact after
    rounding, so the category rules (satisfied = 4-5, high effort = 1-3) stay in scoring.py."""
    return round(share_pct * n / 100.0)


class NpsStats(Struct, frozen=True):
    """NPS (0-10): the score and the shares of promoters (9-10), passives (7-8) and
    detractors (0-6), each with its interval."""

    n: int
    score: Interval
    promoters: Interval
    passives: Interval
    detractors: Interval


def nps_stats(histogram: Mapping[int, int]) -> NpsStats:
    summary = nps(histogram)
    n = summary.n
    return NpsStats(
        n=n,
        score=nps_interval(summary.promoters, summary.detractors, n),
        promoters=wilson(summary.promoters, n),
        passives=wilson(summary.passives, n),
        detractors=wilson(summary.detractors, n),
    )


class CsatStats(Struct, frozen=True):
    """CSAT (1-5): the share of satisfied answers (4 and 5) and the mean score."""

    n: int
    satisfied: Interval
    mean: Interval


def csat_stats(histogram: Mapping[int, int]) -> CsatStats:
    summary = csat(histogram)
    low, high = SCALES["csat"]
    return CsatStats(
        n=summary.n,
        satisfied=wilson(_count(summary.satisfied_pct, summary.n), summary.n),
        mean=mean_interval(histogram, (float(low), float(high))),
    )


class CesStats(Struct, frozen=True):
    """CES (1-7, 7 = very easy): the mean and the share of high-effort answers (1-3)."""

    n: int
    mean: Interval
    high_effort: Interval


def ces_stats(histogram: Mapping[int, int]) -> CesStats:
    summary = ces(histogram)
    return CesStats(
        n=summary.n,
        mean=mean_interval(histogram, HEADLINE_SCALES["ces"]),
        high_effort=wilson(_count(summary.high_effort_pct, summary.n), summary.n),
    )


def headline(metric: str, histogram: Mapping[int, int]) -> Interval:
    """The figure a metric is reported by: NPS; CSAT's satisfied share; CES's mean."""
    if metric == "nps":
        return nps_stats(histogram).score
    if metric == "csat":
        return csat_stats(histogram).satisfied
    if metric == "ces":
        return ces_stats(histogram).mean
    raise ValueError(f"unknown metric {metric!r}")


# --- Two estimates compared --------------------------------------------------------------------


def _z(first: Interval, second: Interval) -> float:
    """z of second - first, two independent estimates, on their adjusted centres. Every
    standard error here is above 0 for n >= 1 (the pseudo-answers see to it)."""
    return (second.centre - first.centre) / math.sqrt(first.se**2 + second.se**2)


def _two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _direction(z: float, difference: float) -> int:
    """+1 / -1 when z says the difference is real and agrees with the plain difference in
    sign (the adjusted centres shrink towards the middle of the scale, unequally for unequal n,
    so in rare cases their difference and the plain one point opposite ways: then no call)."""
    if z > 0 and difference > 0:
        return 1
    if z < 0 and difference < 0:
        return -1
    return 0


class Change(Struct, frozen=True):
    """The change from one period to the next and whether it is outside the noise.

    ``difference`` is after - before of the plain values, in the metric's unit (NPS points,
    percentage points, score points); None, with z and p, when the verdict is "not enough
    data": either period's figure is not shown (too few answers, see Interval.shown), so no
    change is reported either. "up" and "down" describe the number, not whether it is good:
    a high-effort share that goes up is worse.
    """

    difference: float | None
    z: float | None
    p_value: float | None
    verdict: Verdict

    @property
    def significant(self) -> bool:
        return self.verdict in ("up", "down")


def change(before: Interval, after: Interval) -> Change:
    """Two-sided z test at 5 % of after - before on the adjusted centres and standard errors:
    significant when |z| > 1.96 (p < 0.05) and the plain difference points the same way."""
    if not (before.shown and after.shown):
        return Change(None, None, None, "not enough data")
    difference = after.value - before.value
    z = _z(before, after)
    p_value = _two_sided_p(z)
    direction = _direction(z, difference) if p_value < ALPHA else 0
    verdict: Verdict = (
        "up" if direction > 0 else "down" if direction < 0 else "no significant change"
    )
    return Change(difference, z, p_value, verdict)


# --- Segments against the rest -----------------------------------------------------------------


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values (Holm 1979): sorted p(1) <= ... <= p(m),
    adjusted p(i) = max over j <= i of min(1, (m - j + 1) p(j)). Rejecting where the adjusted
    p < alpha keeps the chance of any false "different" in the family at most alpha."""
    ordered = sorted(p_values.items(), key=lambda item: (item[1], item[0]))
    m = len(ordered)
    adjusted: dict[str, float] = {}
    running = 0.0
    for index, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - index) * p))
        adjusted[name] = running
    return adjusted


class SegmentComparison(Struct, frozen=True):
    """One segment against the rest of the scope. ``difference``: segment - rest (plain
    values); ``p_value``: Holm-adjusted over the segments compared together; both None when
    no comparison was made (too few answers in the segment or in the rest)."""

    standing: Standing
    difference: float | None
    p_value: float | None


def compare_segments(
    segments: Mapping[str, tuple[Interval, Interval]],
) -> dict[str, SegmentComparison]:
    """Each segment (its own figure, the figure of the rest of the scope) set apart only where
    it differs from the rest significantly, after Holm's correction over the segments given
    (one breakdown: one survey x metric x attribute).

    "too few answers": the segment's figure is not shown. "no clear difference": not
    significant, or the rest is too small to compare with. "higher" / "lower": the segment's
    figure against the rest's, as numbers (every headline here is better when higher).
    """
    found: dict[str, SegmentComparison] = {}
    tests: dict[str, tuple[float, float, float]] = {}  # name -> (z, p, difference)
    for name, (segment, rest) in segments.items():
        if not segment.shown:
            found[name] = SegmentComparison("too few answers", None, None)
        elif not rest.shown:
            found[name] = SegmentComparison("no clear difference", None, None)
        else:
            z = _z(rest, segment)
            tests[name] = (z, _two_sided_p(z), segment.value - rest.value)
    adjusted = holm({name: p for name, (_, p, _) in tests.items()})
    for name, (z, _, difference) in tests.items():
        direction = _direction(z, difference) if adjusted[name] < ALPHA else 0
        standing: Standing = (
            "higher" if direction > 0 else "lower" if direction < 0 else "no clear difference"
        )
        found[name] = SegmentComparison(standing, difference, adjusted[name])
    return {name: found[name] for name in segments}


# --- The trend chart's axis --------------------------------------------------------------------

MIN_AXIS_SHARE = 0.2  # the axis spans at least this share of the scale: noise is not magnified
AXIS_PAD_SHARE = 0.05  # room above and below the outermost interval, as a share of the scale


def _nice_step(raw: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)


def trend_axis(
    intervals: Iterable[tuple[float, float]], scale: tuple[float, float]
) -> tuple[float, float] | None:
    """The value range a trend chart should show: every interval (low, high) given, with
    AXIS_PAD_SHARE of the scale above and below, at least MIN_AXIS_SHARE of the scale wide,
    on round steps (a twentieth of the scale, rounded to 1, 2, 2.5 or 5 x 10^k), and never
    beyond the scale. None when there is no interval (no period with a figure).

    NPS intervals 10..45 and 20..60 give 0..70, not -100..100."""
    bounds = list(intervals)
    if not bounds:
        return None
    first, last = scale
    span = last - first
    low = min(b[0] for b in bounds) - AXIS_PAD_SHARE * span
    high = max(b[1] for b in bounds) + AXIS_PAD_SHARE * span
    shortfall = MIN_AXIS_SHARE * span - (high - low)
    if shortfall > 0:
        low, high = low - shortfall / 2, high + shortfall / 2
    # Slide a range that sticks out of the scale back in before clipping, keeping its width.
    if low < first:
        low, high = first, high + (first - low)
    if high > last:
        low, high = low - (high - last), last
    step = _nice_step(span / 20)
    low = math.floor(low / step + 1e-9) * step
    high = math.ceil(high / step - 1e-9) * step
    return max(first, round(low, 9)), min(last, round(high, 9))
