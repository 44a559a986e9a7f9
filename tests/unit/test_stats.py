"""survey_core.report.stats against values computed by hand; the arithmetic is in the comments.

z below is 1.96 in the comments; the code uses Z_95 = 1.959963..., which moves the margins in
the fourth significant digit, so hand values are compared with a tolerance.
"""

import math

import pytest
from survey_core.report.stats import (
    MIN_N,
    Change,
    MeanEstimate,
    ces_stats,
    csat_stats,
    is_small_n,
    mean_change,
    mean_estimate,
    nps,
    nps_change,
    proportion_change,
    rank_segments,
)
from survey_core.rules import scoring

pytestmark = pytest.mark.unit


def nps_histogram(promoters: int, passives: int, detractors: int) -> dict[int, int]:
    return {10: promoters, 8: passives, 3: detractors}


# --- NPS ---------------------------------------------------------------------------------------


def test_nps_shares_score_and_margin_by_hand() -> None:
    # Given 50 promoters, 30 passives, 20 detractors of n = 100
    summary = nps(nps_histogram(50, 30, 20))
    # Then NPS = 50 - 20 = 30
    # var = p_P + p_D - (p_P - p_D)^2 = 0.5 + 0.2 - 0.3^2 = 0.61
    # MoE = 1.96 * sqrt(0.61 / 100) * 100 = 1.96 * 0.078102 * 100 = 15.31 points
    assert summary.n == 100
    assert summary.promoters_pct == pytest.approx(50.0)
    assert summary.passives_pct == pytest.approx(30.0)
    assert summary.detractors_pct == pytest.approx(20.0)
    assert summary.score == pytest.approx(30.0)
    assert summary.margin == pytest.approx(15.31, abs=0.01)


def test_nps_is_scoring_nps_not_a_copy() -> None:
    # The formula is identical, so stats re-exports scoring's function.
    assert nps is scoring.nps


def test_nps_of_an_empty_histogram_says_n_is_0() -> None:
    summary = nps({})
    assert (summary.n, summary.score, summary.margin, summary.promoters_pct) == (0, 0.0, 0.0, 0.0)


# --- CSAT --------------------------------------------------------------------------------------

CSAT_100 = {5: 40, 4: 40, 3: 10, 2: 5, 1: 5}


def test_csat_satisfied_share_wald_margin_and_wilson_interval() -> None:
    stats = csat_stats(CSAT_100)
    # p = (40 + 40) / 100 = 0.80
    # Wald MoE = 1.96 * sqrt(0.8 * 0.2 / 100) * 100 = 1.96 * 0.04 * 100 = 7.84 points
    # Wilson: z^2 = 3.8415, z^2/n = 0.038415
    #   centre = (0.8 + 3.8415/200) / 1.038415 = 0.819207 / 1.038415 = 0.788901
    #   half   = 1.96 / 1.038415 * sqrt(0.0016 + 3.8415/40000)
    #          = 1.887493 * sqrt(0.00169604) = 1.887493 * 0.041183 = 0.077733
    #   -> 71.12 % .. 86.66 %
    assert stats.n == 100
    assert stats.satisfied.pct == pytest.approx(80.0)
    assert stats.satisfied.margin == pytest.approx(7.84, abs=0.01)
    assert stats.satisfied.low == pytest.approx(71.12, abs=0.01)
    assert stats.satisfied.high == pytest.approx(86.66, abs=0.01)
    assert stats.satisfied.margin_reliable  # 100 * 0.8 = 80 >= 5 and 100 * 0.2 = 20 >= 5


def test_csat_margin_is_the_one_scoring_reports() -> None:
    assert csat_stats(CSAT_100).satisfied.margin == pytest.approx(scoring.csat(CSAT_100).margin)


def test_csat_mean_and_its_margin_use_the_sample_standard_deviation() -> None:
    stats = csat_stats(CSAT_100)
    # mean = (5*40 + 4*40 + 3*10 + 2*5 + 1*5) / 100 = (200 + 160 + 30 + 10 + 5) / 100 = 4.05
    # squares = 40*0.95^2 + 40*0.05^2 + 10*1.05^2 + 5*2.05^2 + 5*3.05^2
    #         = 36.1 + 0.1 + 11.025 + 21.0125 + 46.5125 = 114.75
    # s^2 = 114.75 / 99 = 1.159091; se = sqrt(1.159091 / 100) = 0.107661
    # MoE = 1.96 * 0.107661 = 0.2110
    assert stats.mean.mean == pytest.approx(4.05)
    assert stats.mean.margin == pytest.approx(0.2110, abs=0.0001)


def test_csat_all_satisfied_has_no_wald_margin_but_a_wilson_interval() -> None:
    # 12 answers, all 5: p = 1, Wald MoE = 1.96 * sqrt(1 * 0 / 12) = 0
    # Wilson at p = 1: low = n / (n + z^2) = 12 / 15.8415 = 0.7575, high = 1
    stats = csat_stats({5: 12})
    assert stats.satisfied.pct == 100.0
    assert stats.satisfied.margin == 0.0
    assert stats.satisfied.low == pytest.approx(75.75, abs=0.01)
    assert stats.satisfied.high == 100.0
    assert not stats.satisfied.margin_reliable


def test_csat_none_satisfied_has_an_upper_bound_above_zero() -> None:
    # 12 answers, all 1: p = 0; Wilson high = z^2 / (n + z^2) = 3.8415 / 15.8415 = 0.2425
    stats = csat_stats({1: 12})
    assert (stats.satisfied.pct, stats.satisfied.margin, stats.satisfied.low) == (0.0, 0.0, 0.0)
    assert stats.satisfied.high == pytest.approx(24.25, abs=0.01)
    assert not stats.satisfied.margin_reliable


def test_csat_of_an_empty_histogram_is_empty_not_an_error() -> None:
    stats = csat_stats({})
    assert stats.empty and stats.satisfied.empty and stats.mean.empty
    assert (stats.satisfied.pct, stats.satisfied.margin) == (0.0, 0.0)
    # Nothing is known: the interval is the whole range.
    assert (stats.satisfied.low, stats.satisfied.high) == (0.0, 100.0)
    assert (stats.mean.mean, stats.mean.margin) == (0.0, 0.0)


# --- CES ---------------------------------------------------------------------------------------


def test_ces_mean_high_effort_share_and_their_margins() -> None:
    stats = ces_stats({7: 30, 6: 30, 5: 20, 3: 10, 2: 5, 1: 5})
    # n = 100; mean = (210 + 180 + 100 + 30 + 10 + 5) / 100 = 5.35
    # squares = 30*1.65^2 + 30*0.65^2 + 20*0.35^2 + 10*2.35^2 + 5*3.35^2 + 5*4.35^2
    #         = 81.675 + 12.675 + 2.45 + 55.225 + 56.1125 + 94.6125 = 302.75
    # s^2 = 302.75 / 99 = 3.058081; MoE = 1.96 * sqrt(3.058081 / 100) = 1.96 * 0.174874 = 0.3427
    # high effort (1-3) = (10 + 5 + 5) / 100 = 20 %; MoE = 1.96 * sqrt(0.2 * 0.8 / 100) = 7.84
    assert stats.n == 100
    assert stats.mean.mean == pytest.approx(5.35)
    assert stats.mean.margin == pytest.approx(0.3427, abs=0.0001)
    assert stats.high_effort.pct == pytest.approx(20.0)
    assert stats.high_effort.margin == pytest.approx(7.84, abs=0.01)


def test_ces_of_an_empty_histogram_is_empty_not_an_error() -> None:
    stats = ces_stats({})
    assert stats.empty
    assert (stats.mean.mean, stats.mean.margin, stats.high_effort.pct) == (0.0, 0.0, 0.0)


def test_a_single_answer_has_a_mean_but_no_margin() -> None:
    # n = 1: s is undefined, the margin is 0 (unknown, not exact); the change test refuses it.
    assert mean_estimate({6: 1}) == MeanEstimate(n=1, mean=6.0, margin=0.0)


# --- Significance of a change ------------------------------------------------------------------

NPS_BEFORE = nps(nps_histogram(50, 30, 20))  # NPS 30, var 0.61, n 100


def test_nps_rise_just_inside_the_noise() -> None:
    # After: 62 promoters, 26 passives, 12 detractors of 100 -> NPS 50
    # var2 = 0.62 + 0.12 - 0.5^2 = 0.74 - 0.25 = 0.49
    # z = (0.50 - 0.30) / sqrt(0.61/100 + 0.49/100) = 0.2 / sqrt(0.011) = 0.2 / 0.104881 = 1.9069
    # p = erfc(1.9069 / sqrt 2) = 0.0565 > 0.05
    change = nps_change(NPS_BEFORE, nps(nps_histogram(62, 26, 12)))
    assert change.difference == pytest.approx(20.0)
    assert change.z == pytest.approx(1.9069, abs=0.0001)
    assert change.p_value == pytest.approx(0.0565, abs=0.0001)
    assert change.verdict == "no significant change"
    assert not change.significant


def test_nps_rise_just_outside_the_noise() -> None:
    # The same +20 points with less spread after: 55 promoters, 40 passives, 5 detractors -> 50
    # var2 = 0.55 + 0.05 - 0.5^2 = 0.60 - 0.25 = 0.35
    # z = 0.2 / sqrt(0.61/100 + 0.35/100) = 0.2 / sqrt(0.0096) = 0.2 / 0.097980 = 2.0412
    # p = erfc(2.0412 / sqrt 2) = 0.0412 < 0.05
    change = nps_change(NPS_BEFORE, nps(nps_histogram(55, 40, 5)))
    assert change.difference == pytest.approx(20.0)
    assert change.z == pytest.approx(2.0412, abs=0.0001)
    assert change.p_value == pytest.approx(0.0412, abs=0.0001)
    assert change.verdict == "up"
    assert change.significant


def test_nps_fall_outside_the_noise_is_down() -> None:
    # The previous case the other way round: z = -2.0412
    change = nps_change(nps(nps_histogram(55, 40, 5)), NPS_BEFORE)
    assert change.difference == pytest.approx(-20.0)
    assert change.z == pytest.approx(-2.0412, abs=0.0001)
    assert change.verdict == "down"


@pytest.mark.parametrize(
    ("satisfied_of_400", "z", "verdict"),
    [
        # before: 70 of 100 satisfied, p1 = 0.70, p1 (1 - p1) / n1 = 0.21 / 100 = 0.0021
        # 318 of 400: p2 = 0.795, p2 (1 - p2) / n2 = 0.162975 / 400 = 0.00040744
        #   z = (0.795 - 0.70) / sqrt(0.0021 + 0.00040744) = 0.095 / 0.050074 = 1.8972
        (318, 1.8972, "no significant change"),
        # 321 of 400: p2 = 0.8025, p2 (1 - p2) / n2 = 0.15849375 / 400 = 0.00039623
        #   z = (0.8025 - 0.70) / sqrt(0.0021 + 0.00039623) = 0.1025 / 0.049962 = 2.0516
        (321, 2.0516, "up"),
    ],
)
def test_two_proportions_unpooled_z_test(satisfied_of_400: int, z: float, verdict: str) -> None:
    before = csat_stats({5: 70, 2: 30}).satisfied
    after = csat_stats({4: satisfied_of_400, 3: 400 - satisfied_of_400}).satisfied
    change = proportion_change(before, after)
    assert change.difference == pytest.approx(satisfied_of_400 / 4 - 70)
    assert change.z == pytest.approx(z, abs=0.0001)
    assert change.verdict == verdict


@pytest.mark.parametrize(
    ("per_value", "z", "verdict"),
    [
        # before {2: k, 6: k}: mean 4, s^2 = 2k * 2^2 / (2k - 1); after {3: k, 7: k}: mean 5,
        # same s^2. z = 1 / sqrt(2 * 4 / (2k - 1)) = sqrt((2k - 1) / 8)
        (15, 1.9039, "no significant change"),  # sqrt(29 / 8) = sqrt(3.625) = 1.9039
        (17, 2.0310, "up"),  # sqrt(33 / 8) = sqrt(4.125) = 2.0310
    ],
)
def test_two_means_welch_z(per_value: int, z: float, verdict: str) -> None:
    before = ces_stats({2: per_value, 6: per_value}).mean
    after = ces_stats({3: per_value, 7: per_value}).mean
    change = mean_change(before, after)
    assert change.difference == pytest.approx(1.0)
    assert change.z == pytest.approx(z, abs=0.0001)
    assert change.verdict == verdict


def test_p_value_is_two_sided_normal_and_agrees_with_the_threshold() -> None:
    change = nps_change(NPS_BEFORE, nps(nps_histogram(55, 40, 5)))
    assert change.z is not None
    assert change.p_value is not None
    assert change.p_value == pytest.approx(math.erfc(abs(change.z) / math.sqrt(2)))
    assert change.p_value < 0.05


def test_identical_periods_are_no_significant_change() -> None:
    change = nps_change(NPS_BEFORE, NPS_BEFORE)
    assert change == Change(0.0, 0.0, 1.0, "no significant change")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {10: 40, 0: 40}),  # n = 0 before
        ({10: 40, 0: 40}, {}),  # n = 0 after
        ({10: 1}, {10: 40, 0: 40}),  # n = 1 before
        ({10: 40, 0: 40}, {0: 1}),  # n = 1 after
    ],
)
def test_fewer_than_two_answers_on_either_side_is_not_enough_data(
    before: dict[int, int], after: dict[int, int]
) -> None:
    change = nps_change(nps(before), nps(after))
    assert change.verdict == "not enough data"
    assert (change.z, change.p_value) == (None, None)
    assert not change.significant


def test_zero_variance_on_both_sides_is_not_enough_data_not_a_division_by_zero() -> None:
    # All promoters (NPS 100, var 1 + 0 - 1 = 0) then all detractors (NPS -100, var 0)
    change = nps_change(nps({10: 50}), nps({0: 50}))
    assert change.difference == pytest.approx(-200.0)
    assert change.verdict == "not enough data"
    # Same for proportions and means
    all_satisfied, none_satisfied = csat_stats({5: 40}), csat_stats({1: 40})
    assert proportion_change(all_satisfied.satisfied, none_satisfied.satisfied).verdict == (
        "not enough data"
    )
    assert mean_change(mean_estimate({4: 40}), mean_estimate({6: 40})).verdict == (
        "not enough data"
    )


def test_zero_variance_on_one_side_only_is_tested() -> None:
    # before all promoters of 50: NPS 100, var 0. after P50 Pa30 D20: NPS 30, var 0.61
    # z = (0.3 - 1.0) / sqrt(0 + 0.61/100) = -0.7 / 0.078102 = -8.96
    change = nps_change(nps({10: 50}), NPS_BEFORE)
    assert change.z == pytest.approx(-8.96, abs=0.01)
    assert change.verdict == "down"


# --- Small n and ranking -----------------------------------------------------------------------


def test_small_n_boundary() -> None:
    assert MIN_N == 30
    assert is_small_n(29)
    assert not is_small_n(30)


def test_flagged_segments_follow_the_ranked_ones_with_their_data() -> None:
    segments = {
        "north": nps(nps_histogram(20, 10, 10)),  # n 40, NPS 25
        "south": nps(nps_histogram(30, 0, 0)),  # n 30, NPS 100
        "east": nps(nps_histogram(29, 0, 0)),  # n 29, NPS 100 -> flagged
        "west": nps(nps_histogram(10, 10, 20)),  # n 40, NPS -25
        "tiny": nps(nps_histogram(1, 0, 5)),  # n 6, NPS -66.7 -> flagged
        "none": nps({}),  # n 0 -> flagged, last
    }
    rows = rank_segments(segments, lambda s: s.score)
    assert [(r.name, r.rank) for r in rows] == [
        ("south", 1),
        ("north", 2),
        ("west", 3),
        ("east", None),
        ("tiny", None),
        ("none", None),
    ]
    assert [r.flagged for r in rows] == [False, False, False, True, True, True]
    assert rows[3].data is segments["east"]
    assert rows[3].n == 29
    assert rows[3].score == pytest.approx(100.0)


def test_lower_is_better_ranking_and_ties_by_name() -> None:
    # CES high-effort share: less is better
    segments = {
        "b": ces_stats({1: 10, 7: 30}),  # 25 %
        "a": ces_stats({1: 10, 7: 30}),  # 25 %, ties with b: by name
        "c": ces_stats({7: 40}),  # 0 %
        "d": ces_stats({1: 2, 7: 3}),  # n 5 -> flagged
    }
    rows = rank_segments(segments, lambda s: s.high_effort.pct, higher_is_better=False)
    assert [(r.name, r.rank) for r in rows] == [("c", 1), ("a", 2), ("b", 3), ("d", None)]
    assert rows[1].score == pytest.approx(25.0)


def test_ranking_nothing_is_an_empty_list() -> None:
    assert rank_segments({}, lambda s: s.score) == []
