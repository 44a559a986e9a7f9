"""The report's one-line takeaway: what a manager should read if they read nothing else, e.g.
"NPS 33, no significant change from last week; 2 callbacks overdue".

Computed from the report's own figures (the first block, the same survey x metric as the trend,
and the follow-up summary), so it can never say more than the report: a change is "up" or
"down" only when the block's verdict is, and a headline withheld for too few answers stays
withheld here. Rendered with `text()`; the message ids are report_too_few and
report_takeaway_* (since_week / since_day / since_period, up, down, no_change, not_enough,
overdue_none, and the plural report_takeaway_overdue). Numbers are written as the language
writes them (messages/formatting.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..messages.formatting import format_number, format_percent
from ..messages.i18n import plural, text
from ..messages.names import metric_name
from .model import FollowUpSummary, MetricBlock, Takeaway

# The report's cadence -> what its previous period is called.
SINCE = {"weekly": "week", "daily": "day"}
SINCE_TEXT = {
    "week": "report_takeaway_since_week",
    "day": "report_takeaway_since_day",
    "period": "report_takeaway_since_period",
}


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


def format_figure(value: float, metric: str, language: str = "en") -> str:
    """A headline as the takeaway prints it, in `language`: NPS whole points, CSAT whole %
    ("82 %" in fi / sv, "82%" in en), CES one decimal ("5,4")."""
    if metric == "ces":
        return format_number(language, value, 1)
    if metric == "csat":
        return format_percent(language, value, 0)
    return format_number(language, value, 0)


def _difference(value: float, metric: str, language: str) -> str:
    # The verb says the direction; CSAT's difference is in percentage points, so without "%".
    return format_number(language, abs(value), 1 if metric == "ces" else 0)


def takeaway_text(takeaway: Takeaway, language: str) -> str:
    """The takeaway as one line in `language`."""
    t = takeaway
    label = metric_name(language, t.metric)
    if not t.headline.shown or t.headline.value is None:
        n = format_number(language, t.headline.n)
        line = f"{label}: {text(language, 'report_too_few')} (n = {n})"
    else:
        head = f"{label} {format_figure(t.headline.value, t.metric, language)}"
        line = f"{head}, {_change_text(t, language)}"
    if t.overdue is not None:
        if t.overdue == 0:
            line += "; " + text(language, "report_takeaway_overdue_none")
        else:
            count = format_number(language, t.overdue)
            line += "; " + plural(language, "report_takeaway_overdue", t.overdue, count=count)
    return line


def _change_text(t: Takeaway, language: str) -> str:
    since = text(language, SINCE_TEXT[t.since])
    verdict, difference = t.change.verdict, t.change.difference
    if verdict in ("up", "down") and difference is not None:
        return text(
            language,
            "report_takeaway_up" if verdict == "up" else "report_takeaway_down",
            difference=_difference(difference, t.metric, language),
            since=since,
        )
    if verdict == "no significant change":
        return text(language, "report_takeaway_no_change", since=since)
    return text(language, "report_takeaway_not_enough")
