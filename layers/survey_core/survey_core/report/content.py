"""The manager report's numbers, from pre-aggregated counters only. Pure: the counters come in
through `CounterRows` (dal/store reads them with one Query per series for the whole span of the
trend: days x segment keys items, never per response)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..catalogue import Catalogue, Survey
from ..messages.i18n import text
from ..messages.names import metric_name
from ..rules.scoring import NpsSummary, share_margin
from .config import Period, ReportGroup, Scope, trend_periods
from .model import (
    ChangeNote,
    ChannelRow,
    CommentRow,
    Estimate,
    FollowUpSummary,
    MetricBlock,
    ReportData,
    SegmentRow,
    TrendPoint,
)
from .stats import (
    Change,
    ces_stats,
    csat_stats,
    mean_change,
    nps,
    nps_change,
    proportion_change,
    rank_segments,
)

METRIC_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


@dataclass(frozen=True)
class CounterRow:
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


def _share(count: int, n: int) -> Estimate:
    share = count / n if n else 0.0
    return Estimate(100.0 * share, share_margin(share, n), n)


def _note(change: Change) -> ChangeNote:
    return ChangeNote(change.difference, change.verdict, change.p_value)


def _headline(metric: str, histogram: Mapping[int, int]) -> Estimate:
    if metric == "nps":
        summary = nps(histogram)
        return Estimate(summary.score, summary.margin, summary.n)
    if metric == "csat":
        satisfied = csat_stats(histogram).satisfied
        return Estimate(satisfied.pct, satisfied.margin, satisfied.n)
    mean = ces_stats(histogram).mean
    return Estimate(mean.mean, mean.margin, mean.n)


def metric_block(
    survey_id: str, metric: str, now: Mapping[int, int], before: Mapping[int, int]
) -> MetricBlock:
    label = METRIC_LABELS[metric]
    if metric == "nps":
        after_nps: NpsSummary = nps(now)
        shares = {
            name: _share(sum(c for s, c in now.items() if low <= s <= high), after_nps.n)
            for name, low, high in (
                ("promoters", 9, 10),
                ("passives", 7, 8),
                ("detractors", 0, 6),
            )
        }
        change = nps_change(nps(before), after_nps)
        return MetricBlock(survey_id, metric, label, _headline(metric, now), _note(change), shares)
    if metric == "csat":
        after_csat, before_csat = csat_stats(now), csat_stats(before)
        mean = Estimate(after_csat.mean.mean, after_csat.mean.margin, after_csat.n)
        change = proportion_change(before_csat.satisfied, after_csat.satisfied)
        return MetricBlock(
            survey_id, metric, label, _headline(metric, now), _note(change), {}, mean
        )
    after_ces, before_ces = ces_stats(now), ces_stats(before)
    high = after_ces.high_effort
    return MetricBlock(
        survey_id,
        metric,
        label,
        _headline(metric, now),
        _note(mean_change(before_ces.mean, after_ces.mean)),
        {"high effort": Estimate(high.pct, high.margin, high.n)},
    )


def _segment_rows(
    survey: Survey, metric: str, rows: Sequence[CounterRow], period: Period, scope: Scope
) -> list[SegmentRow]:
    """The breakdown by each of the survey's report segments (within the scope's own series,
    so not by the scope's attribute)."""
    found = []
    for attribute in survey.report_segments:
        if attribute == scope.attribute:
            continue
        start = f"{attribute}="
        values = sorted(
            {r.segment_key[len(start) :] for r in rows if r.segment_key.startswith(start)}
        )
        headlines = {
            value: _headline(metric, _histogram(rows, period, f"{start}{value}"))
            for value in values
        }
        present = {value: est for value, est in headlines.items() if est.n}
        for ranked in rank_segments(present, lambda est: est.value):
            found.append(
                SegmentRow(
                    survey.id,
                    metric,
                    attribute,
                    ranked.name,
                    ranked.data,
                    ranked.rank,
                    ranked.flagged,
                )
            )
    return found


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
    trend_label = ""
    channel_counts: Counter[str] = Counter()
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
                for earlier in periods:
                    estimate = _headline(metric, _histogram(rows, earlier, key))
                    trend.append(
                        TrendPoint(
                            period_label(earlier, group.cadence),
                            round(estimate.value, 1) if estimate.n else None,
                            estimate.n,
                        )
                    )
        for name, into in (
            ("sent", channel_counts),
            ("responses", channel_counts),
            ("escalations", follow_up),
        ):
            into += _counts(
                read(f"{survey.id}#{name}{suffix}", period.first_day, last), period, key
            )
    channels = [
        ChannelRow(
            channel,
            channel_counts[f"{channel}_messages"],
            channel_counts[f"via_{channel}"],
            (
                100.0 * channel_counts[f"via_{channel}"] / channel_counts[f"{channel}_invitations"]
                if channel_counts[f"{channel}_invitations"]
                else None
            ),
        )
        for channel in ("email", "sms")
    ]
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
        channels=channels,
        answered_after_reminder=channel_counts["after_reminder"],
        responses=channel_counts["n"],
        follow_up=FollowUpSummary(
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
        ),
        comments=list(comments),
        names=catalogue.names,
    )


def _scope_label(group: ReportGroup, catalogue: Catalogue) -> str:
    return catalogue.names.scope(group.language, group.scope.attribute, group.scope.value)
