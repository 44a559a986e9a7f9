"""survey_core.report.stats against values computed by hand or published; the arithmetic is in
the comments.

z below is 1.96 in the comments and z^2 / 2 = 1.9207; the code uses Z_95 = 1.959963..., which
moves the results in the fourth significant digit, so hand values are compared with a tolerance.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from survey_core.report.stats import (
    MAX_RELATIVE_WIDTH,
    MIN_ANSWERS,
    Interval,
    SegmentComparison,
    ces_stats,
    change,
    compare_segments,
    csat_stats,
    headline,
    holm,
    mean_interval,
    nps_interval,
    nps_stats,
    trend_axis,
    wilson,
)
from survey_core.rules.scoring import Z_95

pytestmark = pytest.mark.unit


def nps_histogram(promoters: int, passives: int, detractors: int) -> dict[int, int]:
    return {10: promoters, 8: passives, 3: detractors}


# --- Shares: Wilson ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, table II, method 3 (score
        # interval without continuity correction), in proportions
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # p = 0.8 of 100 by hand: z^2 = 3.8415, z^2 / n = 0.038415
        #   centre = (0.8 + 3.8415 / 200) / 1.038415 = 0.788901
        #   half   = 1.96 / 1.038415 * sqrt(0.0016 + 3.8415 / 40000) = 0.077733
        (80, 100, 0.7112, 0.8666),
        # all 12 satisfied: low = n / (n + z^2) = 12 / 15.8415 = 0.7575, high = 1
        (12, 12, 0.7575, 1.0),
        # none of 12: high = z^2 / (n + z^2) = 3.8415 / 15.8415 = 0.2425
        (0, 12, 0.0, 0.2425),
    ],
)
def test_wilson_interval(count: int, n: int, low: float, high: float) -> None:
    interval = wilson(count, n)
    assert interval.value == pytest.approx(100.0 * count / n)
    assert interval.low == pytest.approx(100.0 * low, abs=0.01)
    assert interval.high == pytest.approx(100.0 * high, abs=0.01)
    assert interval.scale == (0.0, 100.0)


def test_wilson_test_statistics_are_agresti_caffos() -> None:
    # p~ = (80 + 1) / (100 + 2) = 0.794118
    # se = sqrt(0.794118 * 0.205882 / 102) = sqrt(0.163495 / 102) = sqrt(0.00160289) = 0.040036
    interval = wilson(80, 100)
    assert interval.centre == pytest.approx(79.4118, abs=0.0001)
    assert interval.se == pytest.approx(4.0036, abs=0.0001)


# --- NPS: adjusted Wald (Rocks 2016) -----------------------------------------------------------


def test_nps_interval_by_hand() -> None:
    # 50 promoters, 30 passives, 20 detractors of 100: NPS 30
    # n' = 103, p' = 50.75 / 103 = 0.492718, d' = 20.75 / 103 = 0.201456, centre 0.291262
    # var = p' + d' - (p' - d')^2 = 0.694175 - 0.084834 = 0.609341
    # se = sqrt(0.609341 / 103) = 0.076915; 0.291262 -+ 1.96 * 0.076915 = 0.1405 .. 0.4420
    interval = nps_stats(nps_histogram(50, 30, 20)).score
    assert (interval.n, interval.value) == (100, pytest.approx(30.0))
    assert interval.centre == pytest.approx(29.126, abs=0.001)
    assert interval.se == pytest.approx(7.6915, abs=0.0001)
    assert (interval.low, interval.high) == (
        pytest.approx(14.05, abs=0.01),
        pytest.approx(44.20, abs=0.01),
    )


def test_an_nps_of_100_has_an_interval_below_100_not_a_margin_of_0() -> None:
    # 12 promoters: the plain Wald margin is 1.96 * sqrt((1 + 0 - 1) / 12) = 0.
    # n' = 15, p' = 12.75 / 15 = 0.85, d' = 0.75 / 15 = 0.05, centre 0.80
    # var = 0.90 - 0.64 = 0.26, se = sqrt(0.26 / 15) = 0.131656
    # 0.80 -+ 1.96 * 0.131656 = 0.5420 .. 1.058 -> clipped to 1.0
    interval = nps_interval(12, 0, 12)
    assert interval.value == 100.0
    assert interval.low == pytest.approx(54.20, abs=0.01)
    assert interval.high == 100.0


def test_every_nps_interval_holds_its_value_inside_the_scale() -> None:
    # Every possible answer mix with 5..60 answers.
    for n in range(MIN_ANSWERS, 61):
        for promoters, detractors in itertools.product(range(n + 1), repeat=2):
            if promoters + detractors > n:
                continue
            i = nps_interval(promoters, detractors, n)
            assert -100.0 <= i.low <= i.value <= i.high <= 100.0, (n, promoters, detractors)
            assert i.width > 0


def test_nps_stats_has_the_shares_with_wilson_intervals() -> None:
    stats = nps_stats(nps_histogram(50, 30, 20))
    assert stats.n == 100
    assert stats.promoters == wilson(50, 100)
    assert stats.passives == wilson(30, 100)
    assert stats.detractors == wilson(20, 100)


# --- Means: the bounded-scale Agresti-Coull ----------------------------------------------------


@pytest.mark.parametrize(("successes", "n"), [(0, 10), (3, 10), (10, 10), (41, 57), (1, 5)])
def test_on_a_two_point_scale_the_mean_interval_is_agresti_coull(successes: int, n: int) -> None:
    # Agresti & Coull (1998): n~ = n + z^2, p~ = (x + z^2 / 2) / n~,
    # p~ -+ z sqrt(p~ (1 - p~) / n~), clipped to 0..1
    z2 = Z_95 * Z_95
    total = n + z2
    p = (successes + z2 / 2) / total
    half = Z_95 * math.sqrt(p * (1 - p) / total)
    interval = mean_interval({0: n - successes, 1: successes}, (0.0, 1.0))
    assert interval.value == pytest.approx(successes / n)
    assert interval.centre == pytest.approx(p)
    assert interval.low == pytest.approx(max(0.0, p - half))
    assert interval.high == pytest.approx(min(1.0, p + half))


def test_a_mean_of_identical_answers_has_an_interval_not_a_margin_of_0() -> None:
    # 12 answers of 5 on CSAT 1-5: the t interval is 5.0 +- 0.0.
    # 1.9207 answers added at 1 and at 5: n~ = 15.8415, share at 5: 13.9207 / 15.8415 = 0.878755
    # centre = 1 + 4 * 0.878755 = 4.5150; var = 16 * 0.878755 * 0.121245 = 1.70472
    # se = sqrt(1.70472 / 15.8415) = 0.32804; 4.5150 -+ 0.6430 = 3.872 .. 5.158 -> 3.872 .. 5
    interval = csat_stats({5: 12}).mean
    assert interval.value == 5.0
    assert interval.centre == pytest.approx(4.5150, abs=0.0001)
    assert interval.low == pytest.approx(3.872, abs=0.001)
    assert interval.high == 5.0
    assert interval.shown


def test_every_mean_interval_holds_its_value_inside_the_scale() -> None:
    rng = random.Random(21)
    for _ in range(3000):
        n = rng.randint(MIN_ANSWERS, 80)
        scale = rng.choice([(1, 5), (1, 7)])
        weights = [rng.random() ** 3 for _ in range(scale[1])]
        picks = rng.choices(range(scale[0], scale[1] + 1), weights, k=n)
        histogram = {s: picks.count(s) for s in set(picks)}
        i = mean_interval(histogram, (float(scale[0]), float(scale[1])))
        assert scale[0] <= i.low <= i.value + 1e-12, histogram
        assert i.value <= i.high + 1e-12 <= scale[1] + 1e-12, histogram
        assert i.width > 0


def test_ces_and_csat_stats_carry_their_figures() -> None:
    ces = ces_stats({7: 30, 6: 30, 5: 20, 3: 10, 2: 5, 1: 5})
    # mean = (210 + 180 + 100 + 30 + 10 + 5) / 100 = 5.35; high effort (1-3) = 20 of 100
    assert (ces.n, ces.mean.value) == (100, pytest.approx(5.35))
    assert ces.high_effort == wilson(20, 100)
    assert ces.mean.scale == (1.0, 7.0)
    csat = csat_stats({5: 40, 4: 40, 3: 10, 2: 5, 1: 5})
    # satisfied (4-5) = 80 of 100; mean = 405 / 100 = 4.05
    assert csat.satisfied == wilson(80, 100)
    assert (csat.mean.value, csat.mean.scale) == (pytest.approx(4.05), (1.0, 5.0))
    assert headline("csat", {5: 40, 4: 40, 3: 10, 2: 5, 1: 5}) == csat.satisfied
    assert headline("ces", {7: 30, 6: 30, 5: 20, 3: 10, 2: 5, 1: 5}) == ces.mean
    with pytest.raises(ValueError, match="unknown metric"):
        headline("sus", {})


# --- When a figure is shown --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "shown"),
    [
        # the examples: "NPS 33.3 +- 106.7 (n = 3)", "CSAT 0.0 % +- 0.0 (n = 1)"
        (nps_stats({10: 2, 3: 1}).score, False),  # n < 5 (and -51..85: 68 % of the scale)
        (csat_stats({1: 1}).satisfied, False),  # n < 5 (0..79 %)
        # n = 4 all satisfied: 51..100 %, 49 % of the scale, but fewer than 5 answers
        (csat_stats({5: 4}).satisfied, False),
        (csat_stats({5: 5}).satisfied, True),  # n = 5: 56.6..100 %, 43 %
        (csat_stats({5: 5, 1: 5}).satisfied, False),  # 5 of 10: 23.7..76.3 %, 53 %
        (csat_stats({5: 6, 1: 6}).satisfied, True),  # 6 of 12: 25.4..74.6 %, 49 %
        (nps_stats({10: 5, 0: 5}).score, False),  # NPS 0 of 10: -51..51, 51 %
        (nps_stats({10: 6, 0: 6}).score, True),  # NPS 0 of 12: -48..48, 48 %
        (ces_stats({7: 5}).mean, True),  # 4.07..7, 49 %
        (ces_stats({1: 5, 7: 5}).mean, False),  # 2.42..5.58, 53 %
        (ces_stats({1: 10, 7: 10}).mean, True),  # 2.80..5.20, 40 %
        (nps_stats({}).score, False),  # no answers
    ],
)
def test_a_figure_is_shown_only_with_enough_answers_and_a_narrow_enough_interval(
    interval: Interval, shown: bool
) -> None:
    assert interval.shown is shown
    span = interval.scale[1] - interval.scale[0]
    if shown:
        assert interval.n >= MIN_ANSWERS
        assert interval.width <= MAX_RELATIVE_WIDTH * span
    else:
        assert interval.n < MIN_ANSWERS or interval.width > MAX_RELATIVE_WIDTH * span


def test_no_answers_is_the_whole_scale() -> None:
    for interval in (wilson(0, 0), nps_interval(0, 0, 0), mean_interval({}, (1.0, 7.0))):
        assert interval.n == 0
        assert (interval.low, interval.high) == interval.scale
        assert not interval.shown


# --- Change between two periods ----------------------------------------------------------------

NPS_BEFORE = nps_stats(nps_histogram(50, 30, 20)).score  # centre 29.1262, se 7.6915 (above)


def test_nps_rise_just_inside_the_noise() -> None:
    # After: 62 promoters, 26 passives, 12 detractors of 100 -> NPS 50
    # p' = 62.75 / 103 = 0.609223, d' = 12.75 / 103 = 0.123786, centre 0.485437
    # var = 0.733010 - 0.235649 = 0.497361, se = sqrt(0.497361 / 103) = 0.069489
    # z = (0.485437 - 0.291262) / sqrt(0.076915^2 + 0.069489^2) = 0.194175 / 0.103656 = 1.8733
    result = change(NPS_BEFORE, nps_stats(nps_histogram(62, 26, 12)).score)
    assert result.difference == pytest.approx(20.0)
    assert result.z == pytest.approx(1.8733, abs=0.0001)
    assert result.p_value == pytest.approx(0.0610, abs=0.0001)
    assert result.verdict == "no significant change"
    assert not result.significant


def test_nps_rise_just_outside_the_noise() -> None:
    # The same +20 points with less spread after: 55 promoters, 40 passives, 5 detractors
    # p' = 55.75 / 103 = 0.541262, d' = 5.75 / 103 = 0.055825, centre 0.485437
    # var = 0.597087 - 0.235649 = 0.361438, se = sqrt(0.361438 / 103) = 0.059238
    # z = 0.194175 / sqrt(0.076915^2 + 0.059238^2) = 0.194175 / 0.097082 = 2.0001, p = 0.0455
    result = change(NPS_BEFORE, nps_stats(nps_histogram(55, 40, 5)).score)
    assert result.z == pytest.approx(2.0001, abs=0.0001)
    assert result.p_value == pytest.approx(0.0455, abs=0.0001)
    assert result.verdict == "up"
    assert result.significant
    # and the other way round
    back = change(nps_stats(nps_histogram(55, 40, 5)).score, NPS_BEFORE)
    assert (back.difference, back.verdict) == (pytest.approx(-20.0), "down")


@pytest.mark.parametrize(
    ("satisfied_of_400", "z", "verdict"),
    [
        # Agresti-Caffo: before 70 of 100, p~1 = 71 / 102 = 0.696078,
        #   var1 = 0.696078 * 0.303922 / 102 = 0.0020741
        # 318 of 400: p~2 = 319 / 402 = 0.793532, var2 = 0.793532 * 0.206468 / 402 = 0.00040756
        #   z = 0.097454 / sqrt(0.0024817) = 0.097454 / 0.049817 = 1.9562
        (318, 1.9562, "no significant change"),
        # 319 of 400: p~2 = 320 / 402 = 0.796020, var2 = 0.796020 * 0.203980 / 402 = 0.00040392
        #   z = 0.099942 / sqrt(0.0024780) = 0.099942 / 0.049780 = 2.0077
        (319, 2.0077, "up"),
    ],
)
def test_two_shares_agresti_caffo(satisfied_of_400: int, z: float, verdict: str) -> None:
    before = csat_stats({5: 70, 2: 30}).satisfied
    after = csat_stats({4: satisfied_of_400, 3: 400 - satisfied_of_400}).satisfied
    result = change(before, after)
    assert result.difference == pytest.approx(satisfied_of_400 / 4 - 70)
    assert result.z == pytest.approx(z, abs=0.0001)
    assert result.verdict == verdict


@pytest.mark.parametrize(
    ("per_value", "verdict"),
    [
        # before {2: k, 6: k}, after {3: k, 7: k} on CES 1-7, q = 1.9207 added at 1 and at 7:
        # before's centre is 4 exactly, after's (10k + 8q) / (2k + 2q). The plain Welch z,
        # sqrt((2k - 1) / 8), calls k = 17 a change already; the bounded-scale test, whose
        # pseudo-answers widen both sides, only from k = 20 (z = 1.958 at 19, 2.019 at 20).
        (17, "no significant change"),
        (19, "no significant change"),
        (20, "up"),
    ],
)
def test_two_means_on_their_bounded_scale_intervals(per_value: int, verdict: str) -> None:
    before = ces_stats({2: per_value, 6: per_value}).mean
    after = ces_stats({3: per_value, 7: per_value}).mean
    result = change(before, after)
    assert result.difference == pytest.approx(1.0)
    assert before.centre == pytest.approx(4.0)
    assert result.z == pytest.approx(
        (after.centre - before.centre) / math.sqrt(before.se**2 + after.se**2)
    )
    assert result.verdict == verdict


def test_p_value_is_two_sided_normal_and_agrees_with_the_threshold() -> None:
    result = change(NPS_BEFORE, nps_stats(nps_histogram(55, 40, 5)).score)
    assert result.z is not None and result.p_value is not None
    assert result.p_value == pytest.approx(math.erfc(abs(result.z) / math.sqrt(2)))
    assert (abs(result.z) > Z_95) is (result.p_value < 0.05)


def test_identical_periods_are_no_significant_change() -> None:
    result = change(NPS_BEFORE, NPS_BEFORE)
    assert (result.difference, result.z, result.p_value) == (0.0, 0.0, 1.0)
    assert result.verdict == "no significant change"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {10: 40, 0: 40}),  # no answers before
        ({10: 40, 0: 40}, {}),  # none after
        ({10: 3}, {10: 40, 0: 40}),  # 3 before: too few for a figure, so for a change too
        ({10: 40, 0: 40}, {0: 1}),  # 1 after
        ({10: 5, 0: 5}, {10: 40, 0: 40}),  # 10 before, interval -51..51: too wide
    ],
)
def test_without_a_figure_on_either_side_there_is_no_change_to_report(
    before: dict[int, int], after: dict[int, int]
) -> None:
    result = change(nps_stats(before).score, nps_stats(after).score)
    assert result == type(result)(None, None, None, "not enough data")
    assert not result.significant


def test_all_promoters_then_all_detractors_is_a_change_not_a_division_by_zero() -> None:
    # Plain Wald: both variances 0. Adjusted: 50 of 50 -> p' = 50.75 / 53, d' = 0.75 / 53
    # centre 0.943396, var = 0.971698 - 0.889996 = 0.081702, se = 0.039263; the mirror image
    # after: z = -1.886792 / sqrt(2 * 0.039263^2) = -33.98
    result = change(nps_stats({10: 50}).score, nps_stats({0: 50}).score)
    assert result.difference == pytest.approx(-200.0)
    assert result.z == pytest.approx(-33.98, abs=0.01)
    assert result.verdict == "down"


def _interval(value: float, centre: float, se: float, n: int = 100) -> Interval:
    return Interval(n, value, value - 10, value + 10, centre, se, (-100.0, 100.0))


def test_no_call_when_the_adjusted_and_the_plain_difference_disagree_in_sign() -> None:
    # Adjusted centres 0 -> 10 (z = 10 / sqrt(2) / 2 = 3.54) while the plain values fall 5 -> 4:
    # shrinkage, not a change the manager would see, so no verdict either way.
    result = change(_interval(5.0, 0.0, 2.0), _interval(4.0, 10.0, 2.0))
    assert result.z == pytest.approx(3.5355, abs=0.0001)
    assert result.verdict == "no significant change"


# --- Segments against the rest, Holm-corrected -------------------------------------------------


@pytest.mark.parametrize(
    ("p_values", "adjusted"),
    [
        # sorted 0.005 (d), 0.01 (a), 0.03 (c), 0.04 (b); m = 4
        # d: 4 * 0.005 = 0.02; a: 3 * 0.01 = 0.03; c: 2 * 0.03 = 0.06; b: max(0.06, 1 * 0.04)
        (
            {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005},
            {"a": 0.03, "b": 0.06, "c": 0.06, "d": 0.02},
        ),
        ({"only": 0.03}, {"only": 0.03}),  # one test: nothing to correct
        ({"a": 0.6, "b": 0.9}, {"a": 1.0, "b": 1.0}),  # capped at 1
        ({}, {}),
    ],
)
def test_holm_adjusted_p_values(p_values: dict[str, float], adjusted: dict[str, float]) -> None:
    assert holm(p_values) == pytest.approx(adjusted)


def _pair(segment: dict[int, int], rest: dict[int, int]) -> tuple[Interval, Interval]:
    return nps_stats(segment).score, nps_stats(rest).score


@pytest.mark.parametrize(
    ("segments", "standings"),
    [
        pytest.param(
            # three segments of 40 with NPS 20, 30, 25: intervals overlap widely
            {
                "north": _pair(nps_histogram(16, 16, 8), nps_histogram(38, 27, 15)),
                "south": _pair(nps_histogram(18, 16, 6), nps_histogram(36, 27, 17)),
                "west": _pair(nps_histogram(20, 12, 8), nps_histogram(34, 31, 15)),
            },
            {
                "north": "no clear difference",
                "south": "no clear difference",
                "west": "no clear difference",
            },
            id="overlapping: no ranking",
        ),
        pytest.param(
            # four segments of 40 at NPS 30 and one at -45: only the bad one differs from its
            # rest (z = -5.6); a good one against the other three and the bad one (NPS 11 of
            # 160) has z = 1.3
            {
                "a": _pair(nps_histogram(18, 16, 6), nps_histogram(60, 58, 42)),
                "b": _pair(nps_histogram(18, 16, 6), nps_histogram(60, 58, 42)),
                "c": _pair(nps_histogram(18, 16, 6), nps_histogram(60, 58, 42)),
                "d": _pair(nps_histogram(18, 16, 6), nps_histogram(60, 58, 42)),
                "bad": _pair(nps_histogram(6, 10, 24), nps_histogram(72, 64, 24)),
            },
            {
                "a": "no clear difference",
                "b": "no clear difference",
                "c": "no clear difference",
                "d": "no clear difference",
                "bad": "lower",
            },
            id="one clearly worse: flagged",
        ),
        pytest.param(
            # With three segments the rest of a good one holds the bad one: east NPS -40 of 60
            # against +40 of 120, and north / south (+40) against east + the other (0 of 120):
            # all three differ from their rest (docs/statistics.md)
            {
                "east": _pair(nps_histogram(9, 18, 33), nps_histogram(60, 48, 12)),
                "north": _pair(nps_histogram(30, 24, 6), nps_histogram(39, 42, 39)),
                "south": _pair(nps_histogram(30, 24, 6), nps_histogram(39, 42, 39)),
            },
            {"east": "lower", "north": "higher", "south": "higher"},
            id="one clearly worse of three: the others are higher than their rest",
        ),
        pytest.param(
            {
                "tiny": _pair(nps_histogram(0, 0, 3), nps_histogram(50, 30, 20)),
                "almost all": _pair(nps_histogram(50, 30, 20), nps_histogram(0, 0, 3)),
            },
            {"tiny": "too few answers", "almost all": "no clear difference"},
            id="too few in the segment, or in the rest to compare with",
        ),
    ],
)
def test_segments_are_set_apart_only_where_they_differ_significantly(
    segments: dict[str, tuple[Interval, Interval]], standings: dict[str, str]
) -> None:
    result = compare_segments(segments)
    assert list(result) == list(segments)  # in the order given
    assert {name: c.standing for name, c in result.items()} == standings
    for name, comparison in result.items():
        segment, rest = segments[name]
        if comparison.p_value is None:
            assert comparison.difference is None
        else:
            assert comparison.difference == pytest.approx(segment.value - rest.value)


def test_holm_keeps_three_borderline_segments_together_that_alone_would_differ() -> None:
    # A segment (centre 12) against its rest (centre 12 - 2.1 sqrt 2), both se 1:
    # z = 2.1 sqrt 2 / sqrt(1 + 1) = 2.1, p = erfc(2.1 / sqrt 2) = 0.0357 < 0.05
    segment, rest = _interval(12.0, 12.0, 1.0), _interval(9.0, 12.0 - 2.1 * math.sqrt(2), 1.0)
    alone = compare_segments({"a": (segment, rest)})
    assert alone["a"].standing == "higher"
    assert alone["a"].p_value == pytest.approx(0.0357, abs=0.0001)
    # Three of them: the smallest adjusted p is 3 * 0.0357 = 0.107 > 0.05: no call
    three = compare_segments({name: (segment, rest) for name in "abc"})
    assert {c.standing for c in three.values()} == {"no clear difference"}
    assert three["a"] == SegmentComparison(
        "no clear difference", pytest.approx(3.0), pytest.approx(0.1072, abs=0.0001)
    )


# --- The trend chart's axis --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "scale", "axis"),
    [
        # NPS 10..45 and 20..60: +-10 points of padding (5 % of 200), round to 10: 0..70
        ([(10.0, 45.0), (20.0, 60.0)], (-100.0, 100.0), (0.0, 70.0)),
        # a flat CES 5.1..5.6: padded 4.8..5.9 (1.1) is under 20 % of the scale (1.2), so
        # widened to 4.75..5.95, then to steps of 0.5: 4.5..6.0
        ([(5.1, 5.6)], (1.0, 7.0), (4.5, 6.0)),
        # CSAT 90..100 %: padded 85..105 slides back inside the scale: 80..100
        ([(90.0, 100.0)], (0.0, 100.0), (80.0, 100.0)),
        # NPS at the bottom: -110..-70 slides to -100..-60
        ([(-100.0, -80.0)], (-100.0, 100.0), (-100.0, -60.0)),
        ([], (-100.0, 100.0), None),  # no period with a figure
    ],
)
def test_trend_axis(
    intervals: list[tuple[float, float]],
    scale: tuple[float, float],
    axis: tuple[float, float] | None,
) -> None:
    assert trend_axis(intervals, scale) == axis


def test_the_trend_axis_always_holds_every_interval_inside_the_scale() -> None:
    rng = random.Random(7)
    for scale in ((-100.0, 100.0), (0.0, 100.0), (1.0, 7.0), (1.0, 5.0)):
        span = scale[1] - scale[0]
        for _ in range(500):
            pairs = []
            for _ in range(rng.randint(1, 8)):
                a, b = sorted(rng.uniform(*scale) for _ in range(2))
                pairs.append((a, b))
            axis = trend_axis(pairs, scale)
            assert axis is not None
            low, high = axis
            assert scale[0] <= low < high <= scale[1]
            assert high - low >= 0.2 * span - 1e-9
            assert all(low <= a and b <= high for a, b in pairs)
