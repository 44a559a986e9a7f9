"""Counters: anonymous counts per survey, series, day and combination of segment values, kept
up to date as messages go and answers come (the report and the results view read only these)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct

MAX_SCORE = 10  # the widest scale (NPS 0-10); CSAT and CES use a part of it
# A score histogram's counts: "s0" .. "s10", the number of answers with that score.
SCORE_NAMES = frozenset(f"s{score}" for score in range(MAX_SCORE + 1))


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


class Counts(Struct, frozen=True):
    """Anonymous counts to add to one counter: one series, one day, one combination of
    segment values (the report adds the combinations up by segment key and scope)."""

    series: str  # "{survey}#sent", "{survey}#responses", "{survey}#escalations", "{survey}#nps"
    day: str
    segment: Mapping[str, Any]
    add: Mapping[str, int]  # counter attribute -> amount (negative moves a count away)

    def taken_back(self) -> Counts:
        """The same counts with the opposite sign: what undoes them."""
        return Counts(self.series, self.day, self.segment, {k: -n for k, n in self.add.items()})


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


class Counter(Struct, frozen=True):
    """One counter as read: its day, its combination of segment values and its counts."""

    day: str
    segment: dict[str, str]
    counts: dict[str, int]  # the non-zero ones: n, s0..s10, and the rate counts


class CohortQuota(Struct, frozen=True):
    used: int  # claimed on the day, by every run
    owned: int  # claimed by this run and not requested yet (a retried run's to finish)


COHORT_BATCH = 10  # customers requested per PutEvents call, and taken out of the cohort at once


class Counters(Protocol):
    def read(self, series: str, first_day: str, last_day: str) -> Iterable[Counter]:
        """Every counter of one series in a day range, one per day and combination of
        segment values seen that day (never per response)."""

    def claim_report(self, group: str, period_first_day: str, period_label: str) -> bool:
        """True the first time a group's report for a period is claimed; False when it was
        (a retried or repeated schedule)."""

    def release_report(self, group: str, period_first_day: str, period_label: str) -> None:
        """Forget a claim whose email did not go out, so the next run sends it."""

    def cohort_quota(self, survey_id: str, day: str, run: str) -> CohortQuota:
        """The recurring survey's quota of a local day, as this run of the job sees it."""

    def claim_cohort_quota(self, survey_id: str, day: str, run: str, count: int, cap: int) -> bool:
        """Claim `count` more of the day's `cap` for this run; False (nothing written) when
        fewer are left (another run claimed meanwhile)."""

    def release_cohort_quota(self, survey_id: str, day: str, run: str, count: int) -> None:
        """Give back `count` of this run's claim: customers it will not request."""

    def mark_requested(
        self, survey_id: str, day: str, run: str, customer_ids: Sequence[str], now: datetime
    ) -> None:
        """Customers the run requested leave their cohort days (the day of `now`) and count as
        done for the run, in one write: a retried run requests the rest of its claim, never
        more. At most COHORT_BATCH customers."""
