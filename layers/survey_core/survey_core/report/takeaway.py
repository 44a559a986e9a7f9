"""The report's one-line takeaway: what a manager should read if they read nothing else, e.g.
"NPS 33, no significant change from last week; 2 callbacks overdue".

Computed from the report's own figures (the first block, the same survey x metric as the trend,
and the follow-up summary), so it can never say more than the report: a change is "up" or
"down" only when the block's verdict is, and a headline withheld for too few answers stays
withheld here. Rendered with `text()`; the message ids are report_too_few and
report_takeaway_* (since_week / since_day / since_period, up, down, no_change, not_enough,
overdue_none / overdue_one / overdue_other).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..messages.i18n import text
from .model import FollowUpSummary, MetricBlock, Takeaway

# The report's cadence -> what its previous period is called.
SINCE = {"weekly": "week", "daily": "day"}


def build_takeaway(
    blocks: Sequence[MetricBlock], follow_up: FollowUpSummary, cadence: str
) -> Takeaway | None:
    """The takeaway of a report, or None when it has no figures (the empty report says so)."""
    if not blocks:
        return None
    block = blocks[0]
    callbacks = follow_up.tasks_created > 0 or follow_up.overdue > 0
    return Takeaway(
        survey_id=block.survey_id,
        metric=block.metric,
        label=block.label,
        headline=block.headline,
        change=block.change,
        since=SINCE.get(cadence, "period"),
        overdue=follow_up.overdue if callbacks else None,
    )


def format_figure(value: float, metric: str) -> str:
    """A headline as the takeaway prints it: NPS whole points, CSAT whole %, CES one decimal."""
    if metric == "ces":
        return f"{value:.1f}"
    whole = f"{round(value) + 0:d}"  # + 0: no "-0"
    return f"{whole} %" if metric == "csat" else whole


def _difference(value: float, metric: str) -> str:
    # The verb says the direction; CSAT's difference is in percentage points, so without "%".
    return f"{abs(value):.1f}" if metric == "ces" else f"{round(abs(value)):d}"


def takeaway_text(takeaway: Takeaway, language: str) -> str:
    """The takeaway as one line in `language`."""
    t = takeaway
    if not t.headline.shown or t.headline.value is None:
        line = f"{t.label}: {text(language, 'report_too_few')} (n = {t.headline.n})"
    else:
        head = f"{t.label} {format_figure(t.headline.value, t.metric)}"
        line = f"{head}, {_change_text(t, language)}"
    if t.overdue is not None:
        plural = "none" if t.overdue == 0 else "one" if t.overdue == 1 else "other"
        line += "; " + text(language, f"report_takeaway_overdue_{plural}", count=t.overdue)
    return line


def _change_text(t: Takeaway, language: str) -> str:
    since = text(language, f"report_takeaway_since_{t.since}")
    verdict, difference = t.change.verdict, t.change.difference
    if verdict in ("up", "down") and difference is not None:
        return text(
            language,
            f"report_takeaway_{verdict}",
            difference=_difference(difference, t.metric),
            since=since,
        )
    if verdict == "no significant change":
        return text(language, "report_takeaway_no_change", since=since)
    return text(language, "report_takeaway_not_enough")
