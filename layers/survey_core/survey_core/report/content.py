"""The manager report's numbers, from pre-aggregated counters only. Pure: the counters come in
through `CounterRows` (the counters repository reads them with one Query per series for the
whole span of the trend: days x segment keys items, never per response)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from msgspec import Struct

from ..catalogue import Catalogue, Survey
from ..messages.i18n import text
from ..messages.names import metric_name
from . import stats
from .config import Period, ReportGroup, Scope, trend_periods
from .model import (
    ChangeNote,
    ChannelRow,
    CommentRow,
    Estimate,
    FollowUpSummary,
    MetricBlock,
    Rate,
    ReportData,
    SegmentRow,
    TrendPoint,
)
from .takeaway import build_takeaway, takeaway_text

METRIC_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


class CounterRow(Struct, frozen=True):
    day: date
    segment_key: str  # "all", "businessArea=webshop", ...
    histogram: Mapping[int, int]  # score series
    counts: Mapping[str, int]  # other series: invitations, via_email, created, ...


CounterRows = Callable[[str, date, date], Iterable[CounterRow]]


def _in(row: CounterRow, period: Period) -> bool:
    return period.first_day <= row.day <= period.last_day


def _histogram(rows: Sequence[CounterRow], period: Period, key: str) -> dict[int, int]:
    total: Counter[int] = Counter()
    for row in rows:
        if row.segment_key == key and _in(row, period):
            total.update(row.histogram)
    return dict(total)


def _counts(rows: Iterable[CounterRow], period: Period, key: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in rows:
        if row.segment_key == key and _in(row, period):
            total.update(row.counts)
    return total


def _estimate(interval: stats.Interval) -> Estimate:
    """The report's figure: the value with its interval when it is worth showing
    (stats.Interval.shown), else none, only n."""
    if not interval.shown:
        return Estimate.withheld(interval.n)
    # The interval holds its value (checked for every n >= MIN_ANSWERS in the tests); min/max
    # only absorb floating point at the bounds.
    return Estimate(
        interval.value,
        min(interval.low, interval.value),
        max(interval.high, interval.value),
        interval.n,
    )


def _note(change: stats.Change) -> ChangeNote:
    return ChangeNote(change.difference, change.verdict, change.p_value)


def _withheld_with(headline: Estimate, estimates: dict[str, Estimate]) -> dict[str, Estimate]:
    """A block's other figures are shown only when its headline is: one n, one verdict."""
    if headline.shown:
        return estimates
    return {name: Estimate.withheld(e.n) for name, e in estimates.items()}


def metric_block(
    survey_id: str, metric: str, now: Mapping[int, int], before: Mapping[int, int]
) -> MetricBlock:
    label = METRIC_LABELS[metric]
    headline_now, headline_before = stats.headline(metric, now), stats.headline(metric, before)
    headline = _estimate(headline_now)
    note = _note(stats.change(headline_before, headline_now))
    if metric == "nps":
        found = stats.nps_stats(now)
        shares = {
            "promoters": _estimate(found.promoters),
            "passives": _estimate(found.passives),
            "detractors": _estimate(found.detractors),
        }
        shares = _withheld_with(headline, shares)
        return MetricBlock(survey_id, metric, label, headline, note, shares)
    if metric == "csat":
        mean = _withheld_with(headline, {"mean": _estimate(stats.csat_stats(now).mean)})["mean"]
        return MetricBlock(survey_id, metric, label, headline, note, {}, mean)
    high_effort = _estimate(stats.ces_stats(now).high_effort)
    return MetricBlock(
        survey_id,
        metric,
        label,
        headline,
        note,
        _withheld_with(headline, {"high effort": high_effort}),
    )


def _rest(whole: Mapping[int, int], part: Mapping[int, int]) -> dict[int, int]:
    """The scope's answers outside one segment: the whole minus the segment, per score."""
    rest = {score: count - part.get(score, 0) for score, count in whole.items()}
    return {score: count for score, count in rest.items() if count > 0}


# Within a breakdown: set apart first (higher by value, then lower by value), then the
# segments with no clear difference by name (an order by value would read as a ranking the
# data does not support), then those with too few answers by name.
_STANDING_ORDER = {"higher": 0, "lower": 2, "no clear difference": 1, "too few answers": 3}


def _segment_order(row: SegmentRow) -> tuple[int, float, str]:
    by_value = row.standing in ("higher", "lower") and row.headline.value is not None
    return (
        _STANDING_ORDER[row.standing],
        -(row.headline.value or 0.0) if by_value else 0.0,
        row.value,
    )


def _segment_rows(
    survey: Survey, metric: str, rows: Sequence[CounterRow], period: Period, scope: Scope
) -> list[SegmentRow]:
    """The breakdown by each of the survey's report segments (within the scope's own series,
    so not by the scope's attribute), each segment against the rest of the scope
    (stats.compare_segments: Holm-corrected within one attribute)."""
    whole = _histogram(rows, period, "all")
    found = []
    for attribute in survey.report_segments:
        if attribute == scope.attribute:
            continue
        start = f"{attribute}="
        values = sorted(
            {r.segment_key[len(start) :] for r in rows if r.segment_key.startswith(start)}
        )
        histograms = {value: _histogram(rows, period, f"{start}{value}") for value in values}
        present = {value: h for value, h in histograms.items() if sum(h.values())}
        pairs = {
            value: (stats.headline(metric, h), stats.headline(metric, _rest(whole, h)))
            for value, h in present.items()
        }
        compared = stats.compare_segments(pairs)
        breakdown = [
            SegmentRow(
                survey.id,
                metric,
                attribute,
                value,
                _estimate(pairs[value][0]),
                result.standing,
                result.difference,
                result.p_value,
            )
            for value, result in compared.items()
        ]
        found += sorted(breakdown, key=_segment_order)
    return found


def trend_points(
    rows: Sequence[CounterRow], periods: Sequence[Period], metric: str, cadence: str
) -> list[TrendPoint]:
    """The headline of each period (oldest first) from one series' counters, scope whole."""
    return [
        TrendPoint(
            period_label(earlier, cadence),
            _estimate(stats.headline(metric, _histogram(rows, earlier, "all"))),
        )
        for earlier in periods
    ]


def period_label(period: Period, cadence: str) -> str:
    if cadence == "weekly":
        year, week, _ = period.first_day.isocalendar()
        return f"{year}-W{week:02d}"
    return period.label


def build_report_data(
    group: ReportGroup,
    period: Period,
    catalogue: Catalogue,
    read: CounterRows,
    comments: Sequence[CommentRow] = (),
    title: str | None = None,
    overdue: int = 0,
) -> ReportData:
    """Every number of one group's report for one period, with the period before it and the
    trend of the periods before that. `overdue`: the period's callback tasks in the scope
    still open past their SLA deadline (a live read, not a counter): counted as missed.
    Names (title, scope, the trend's survey) are in the group's language, from the catalogue."""
    periods = trend_periods(period)
    first, last = periods[0].first_day, period.last_day
    key = "all"  # the scope's own series holds it whole under "all"
    suffix = group.scope.series_suffix
    blocks: list[MetricBlock] = []
    segments: list[SegmentRow] = []
    trend: list[TrendPoint] = []
    trend_label = trend_metric = trend_survey = ""
    counts: Counter[str] = Counter()
    follow_up: Counter[str] = Counter()
    for survey in catalogue.surveys:
        for metric in survey.metrics:
            rows = list(read(f"{survey.id}#{metric}{suffix}", first, last))
            now = _histogram(rows, period, key)
            before = _histogram(rows, period.before(), key)
            if not now and not before:
                continue
            blocks.append(metric_block(survey.id, metric, now, before))
            segments += _segment_rows(survey, metric, rows, period, group.scope)
            if not trend:
                survey_name = catalogue.names.survey(group.language, survey.id)
                trend_label = f"{metric_name(group.language, metric)}, {survey_name}"
                trend_metric, trend_survey = metric, survey.id
                trend = trend_points(rows, periods, metric, group.cadence)
        for name, into in (
            ("sent", counts),
            ("responses", counts),
            ("escalations", follow_up),
        ):
            into += _counts(
                read(f"{survey.id}#{name}{suffix}", period.first_day, last), period, key
            )
    fu = FollowUpSummary(
        tasks_created=follow_up["created"],
        tasks_done=follow_up["done"],
        sla_met=follow_up["sla_met"],
        sla_missed=follow_up["sla_missed"] + overdue,
        completed=follow_up["completed"],
        not_reached=follow_up["not_reached"],
        expired=follow_up["expired"],
        overdue=overdue,
        reached=follow_up["reached"],
        to_agent_seconds=follow_up["to_agent_seconds"],
    )
    takeaway = build_takeaway(blocks, fu, group.cadence)
    return ReportData(
        title=title or text(group.language, "report_title"),
        group=group.name,
        scope_label=_scope_label(group, catalogue),
        period_label=period.label,
        previous_label=period.before().label,
        language=group.language,
        blocks=blocks,
        trend_metric_label=trend_label,
        trend=trend,
        segments=segments,
        channels=channel_rows(counts),
        response_rate=Rate(counts["n"], counts["invitations"]),
        after_reminder=Rate(counts["after_reminder"], counts["n"]),
        follow_up=fu,
        comments=list(comments),
        names=catalogue.names,
        trend_metric=trend_metric,
        trend_survey=trend_survey,
        takeaway=takeaway,
        takeaway_line=takeaway_text(takeaway, group.language) if takeaway else "",
    )


def channel_rows(counts: Mapping[str, int]) -> list[ChannelRow]:
    """Per channel: answers that came through it / invitations with a message on it (the
    #sent and #responses counters, logic/counting.py), and the messages sent on it."""
    return [
        ChannelRow(
            channel,
            Rate(counts.get(f"via_{channel}", 0), counts.get(f"{channel}_invitations", 0)),
            counts.get(f"{channel}_messages", 0),
        )
        for channel in ("email", "sms")
    ]


def _scope_label(group: ReportGroup, catalogue: Catalogue) -> str:
    return catalogue.names.scope(group.language, group.scope.attribute, group.scope.value)
