"""How often the report's 95 % intervals hold the true value, for the tables in
docs/statistics.md: the intervals of survey_core.report.stats against the ones the report used
before (plain Wald for NPS and shares, z * s / sqrt(n) for means).

    python -m tools.interval_coverage [--draws 4000]

NPS: exact coverage, summed over every possible sample (promoters, passives, detractors) of
size n. Means: Monte Carlo with a fixed seed (the same output every run). Coverage is the share
of samples whose interval contains the true value; a good 95 % interval stays near or above
0.95 and is not needlessly wide.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.report.stats import mean_interval, nps_interval
from survey_core.rules.scoring import Z_95

Bounds = tuple[float, float]

# True (promoter, passive, detractor) shares: typical, good, excellent, poor, polarised, ~all
NPS_TRUTHS = [
    (0.5, 0.3, 0.2),
    (0.7, 0.2, 0.1),
    (0.9, 0.08, 0.02),
    (0.3, 0.3, 0.4),
    (0.45, 0.1, 0.45),
    (0.98, 0.01, 0.01),
]
# True score distributions (lowest score first) on CES 1-7 and CSAT 1-5
MEAN_TRUTHS: dict[str, tuple[Bounds, list[float]]] = {
    "CES typical": ((1.0, 7.0), [0.03, 0.03, 0.04, 0.1, 0.2, 0.3, 0.3]),
    "CES very easy": ((1.0, 7.0), [0, 0, 0, 0, 0.05, 0.15, 0.8]),
    "CES polarised": ((1.0, 7.0), [0.3, 0.05, 0.05, 0.05, 0.05, 0.2, 0.3]),
    "CSAT typical": ((1.0, 5.0), [0.05, 0.05, 0.1, 0.3, 0.5]),
    "CSAT 98 % fives": ((1.0, 5.0), [0, 0, 0, 0.02, 0.98]),
}


def nps_wald(promoters: int, detractors: int, n: int) -> Bounds:
    """The report's NPS interval before: NPS -+ z sqrt((p + d - (p - d)^2) / n), clipped."""
    p, d = promoters / n, detractors / n
    half = Z_95 * math.sqrt((p + d - (p - d) ** 2) / n)
    return max(-1.0, p - d - half), min(1.0, p - d + half)


def nps_adjusted(promoters: int, detractors: int, n: int) -> Bounds:
    interval = nps_interval(promoters, detractors, n)
    return interval.low / 100, interval.high / 100


def nps_coverage(
    n: int, truth: tuple[float, float, float], method: Callable[[int, int, int], Bounds]
) -> float:
    """Exact: the probability of every (P, D) of n times whether its interval holds P - D."""
    pp, pa, pd = truth
    true_nps = pp - pd
    covered = 0.0
    for promoters in range(n + 1):
        for detractors in range(n + 1 - promoters):
            passives = n - promoters - detractors
            log_p = math.lgamma(n + 1) - sum(
                math.lgamma(k + 1) for k in (promoters, passives, detractors)
            )
            log_p += sum(
                k * math.log(q) for k, q in ((promoters, pp), (passives, pa), (detractors, pd)) if k
            )
            low, high = method(promoters, detractors, n)
            if low - 1e-12 <= true_nps <= high + 1e-12:
                covered += math.exp(log_p)
    return covered


def mean_z(histogram: dict[int, int], scale: Bounds) -> Bounds:
    """The report's mean interval before: mean -+ z s / sqrt(n), clipped."""
    n = sum(histogram.values())
    mean = sum(s * c for s, c in histogram.items()) / n
    variance = sum(c * (s - mean) ** 2 for s, c in histogram.items()) / (n - 1) if n > 1 else 0.0
    half = Z_95 * math.sqrt(variance / n)
    return max(scale[0], mean - half), min(scale[1], mean + half)


def mean_bounded(histogram: dict[int, int], scale: Bounds) -> Bounds:
    interval = mean_interval(histogram, scale)
    return interval.low, interval.high


def mean_coverage(
    n: int,
    scale: Bounds,
    weights: Sequence[float],
    method: Callable[[dict[int, int], Bounds], Bounds],
    draws: int,
    seed: int,
) -> tuple[float, float]:
    """Monte Carlo: (coverage, mean width as a share of the scale)."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    scores = list(range(int(scale[0]), int(scale[1]) + 1))
    true_mean = sum(s * w for s, w in zip(scores, weights, strict=True))
    covered = width = 0.0
    for _ in range(draws):
        histogram: dict[int, int] = {}
        for score in rng.choices(scores, weights, k=n):
            histogram[score] = histogram.get(score, 0) + 1
        low, high = method(histogram, scale)
        covered += low - 1e-12 <= true_mean <= high + 1e-12
        width += high - low
    return covered / draws, width / draws / (scale[1] - scale[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--draws", type=int, default=4000, help="Monte Carlo draws per cell")
    args = parser.parse_args(argv)

    print("NPS: exact coverage, plain Wald / adjusted Wald (Rocks 2016)")
    print("true NPS  " + "".join(f"{'n = ' + str(n):>16}" for n in (5, 10, 20, 30, 50, 100)))
    for truth in NPS_TRUTHS:
        cells = [
            f"{nps_coverage(n, truth, nps_wald):.3f} / {nps_coverage(n, truth, nps_adjusted):.3f}"
            for n in (5, 10, 20, 30, 50, 100)
        ]
        print(f"{100 * (truth[0] - truth[2]):+8.0f}  " + "".join(f"{c:>16}" for c in cells))

    print(f"\nMeans: coverage (width / scale), z s / sqrt(n) / bounded scale; {args.draws} draws")
    print(f"{'':16}" + "".join(f"{'n = ' + str(n):>28}" for n in (5, 10, 20, 30)))
    for number, (name, (scale, weights)) in enumerate(MEAN_TRUTHS.items()):
        cells = []
        for n in (5, 10, 20, 30):
            seed = 1000 * number + n
            old = mean_coverage(n, scale, weights, mean_z, args.draws, seed)
            new = mean_coverage(n, scale, weights, mean_bounded, args.draws, seed)
            cells.append(f"{old[0]:.3f} ({old[1]:.2f}) / {new[0]:.3f} ({new[1]:.2f})")
        print(f"{name:16}" + "".join(f"{c:>28}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
