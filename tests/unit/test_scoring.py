import math

import pytest
from survey_core.rules.scoring import (
    Z_95,
    ScoreOutOfRange,
    ces,
    check_score,
    csat,
    nps,
    nps_category,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_nps_categories_at_every_boundary(score: int, category: str) -> None:
    assert nps_category(score) == category


@pytest.mark.parametrize("score", [-1, 11, 3.5, True, "9"])
def test_out_of_range_scores_are_refused(score: object) -> None:
    with pytest.raises(ScoreOutOfRange):
        check_score("nps", score)  # type: ignore[arg-type]


def test_nps_and_margin_for_known_counts() -> None:
    # Given 50 promoters, 30 passives and 20 detractors
    histogram = {10: 30, 9: 20, 8: 20, 7: 10, 5: 15, 0: 5}
    # When NPS is computed
    summary = nps(histogram)
    # Then NPS = 50 % - 20 % = 30, and the margin is 1.96 * sqrt((p + d - (p - d)^2) / n)
    assert summary.n == 100
    assert (summary.promoters, summary.passives, summary.detractors) == (50, 30, 20)
    assert summary.score == pytest.approx(30.0)
    variance = 0.5 + 0.2 - (0.5 - 0.2) ** 2
    assert summary.margin == pytest.approx(100 * Z_95 * math.sqrt(variance / 100))
    assert summary.margin == pytest.approx(15.31, abs=0.01)
    assert summary.promoters_pct == pytest.approx(50.0)


def test_nps_of_nothing_is_empty_not_an_error() -> None:
    summary = nps({})
    assert (summary.n, summary.score, summary.margin) == (0, 0.0, 0.0)


def test_single_detractor_is_minus_100_with_zero_variance() -> None:
    summary = nps({3: 1})
    assert summary.score == -100.0
    assert summary.margin == 0.0


def test_csat_share_of_4_and_5_and_mean() -> None:
    summary = csat({5: 3, 4: 1, 3: 2, 1: 4})
    assert summary.n == 10
    assert summary.satisfied_pct == pytest.approx(40.0)
    assert summary.mean == pytest.approx((15 + 4 + 6 + 4) / 10)
    assert summary.margin == pytest.approx(100 * Z_95 * math.sqrt(0.4 * 0.6 / 10))


def test_ces_mean_margin_and_high_effort_share() -> None:
    summary = ces({7: 2, 6: 2, 2: 1})
    mean = (14 + 12 + 2) / 5
    variance = (2 * (7 - mean) ** 2 + 2 * (6 - mean) ** 2 + (2 - mean) ** 2) / 4
    assert summary.mean == pytest.approx(mean)
    assert summary.margin == pytest.approx(Z_95 * math.sqrt(variance / 5))
    assert summary.high_effort_pct == pytest.approx(20.0)
