"""The manager report's .xlsx attachment, built in memory with XlsxWriter from ReportData.

Four sheets: Summary (the metric blocks, response rates per channel, follow-up of callback
tasks), Trend (earlier periods, with a line chart), Segments (with a bar chart per survey x
metric x attribute of the ranked rows) and Comments. Every sheet name, header, verdict and
note is in the report's language (message catalogues), surveys and segments by the names the
catalogue gives them, periods and dates as the language writes them; numbers are numbers, so
Excel shows them with the reader's own decimal separator.

Every number is the report's own number, written as a number; a percentage as its fraction
(82.5 % as 0.825) in a real percent format, which Excel shows as the reader's locale writes it
("82,5 %") and computes with as a share. Every data sheet has a frozen header row and an
autofilter over its table (the Summary: over the metric table); the charts show each figure's
95 % interval as error bars. Every text goes through _text: cleaned of control and
bidi-override characters (safe_text.py) and written with write_string, so a comment
"=HYPERLINK(...)" is a text cell, never a formula. The texts from outside (the customers'
comments, the segment values from product systems' events) also carry Excel's quote prefix,
so they stay text even when someone edits the cell and presses Enter.
The same data gives the same bytes: the file's creation date is the period's last day.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..messages.localizer import Localizer
from ..messages.safe_text import clean_text
from .chart import METRIC_RANGES, trend_has_values, trend_metric
from .model import MetricBlock, Rate, ReportData, SegmentRow

if TYPE_CHECKING:  # XlsxWriter ships with the report function and loads when a report is due
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

# The segment standings (SegmentRow.standing) -> message ids.
_STANDINGS = {
    "higher": "report_segment_higher",
    "lower": "report_segment_lower",
    "no clear difference": "report_segment_no_difference",
    "too few answers": "report_too_few",
}

# Shares as columns, in this order; a share the code does not know goes after them.
_SHARE_ORDER = ("promoters", "passives", "detractors", "satisfied", "high effort")

# A real percent format: the cell holds the fraction (0.825), Excel shows it as the reader's
# locale writes a percentage ("82,5 %", "82.5%") and computes with it as a share.
_PERCENT = "0.0%"
# The headline's unit per metric: NPS points, CSAT %, CES mean (1-7).
_VALUE_FORMATS = {"nps": "0.0", "csat": _PERCENT, "ces": "0.00"}
_CHANGE_FORMATS = {"nps": "+0.0;-0.0;0.0", "csat": "+0.0;-0.0;0.0", "ces": "+0.00;-0.00;0.00"}
# On charts: data labels and axis as the email shows them (NPS and CSAT whole, CES one decimal).
_CHART_FORMATS = {"nps": "0", "csat": "0%", "ces": "0.0"}
_MAJOR_UNITS = {"nps": 50.0, "csat": 0.25, "ces": 1.0}
# The report keeps percentages in percent (82.5); the workbook writes them as fractions.
_FACTORS = {"csat": 0.01}
_EPOCH = datetime(2000, 1, 1)  # the file's date when the period names no date


class _Formats:
    """XlsxWriter formats, one object per number format (a workbook wants them reused)."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._numbers: dict[str, Format] = {}
        self.title: Format = workbook.add_format({"bold": True, "font_size": 14})
        self.bold: Format = workbook.add_format({"bold": True})
        self.header: Format = workbook.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        # Texts from outside: quote-prefixed, text even after an edit of the cell.
        self.outside: Format = workbook.add_format({"quote_prefix": True})
        self.outside_wrap: Format = workbook.add_format(
            {"text_wrap": True, "valign": "top", "quote_prefix": True}
        )
        self.top: Format = workbook.add_format({"valign": "top"})
        # Excel's built-in short date (format 14): shown as the reader's regional settings
        # write a date (16.11.2026, 2026-11-16, 16/11/2026), like the numbers' separators.
        self.date: Format = workbook.add_format({"num_format": 14, "valign": "top"})

    def number(self, num_format: str) -> Format:
        if num_format not in self._numbers:
            self._numbers[num_format] = self._workbook.add_format(
                {"num_format": num_format, "valign": "top"}
            )
        return self._numbers[num_format]


def _text(ws: Worksheet, row: int, col: int, value: str, fmt: Format | None = None) -> None:
    """A text as a text cell (never a formula, number or link), without control characters."""
    ws.write_string(row, col, clean_text(value), fmt)


def _number(
    ws: Worksheet, row: int, col: int, value: float | None, fmt: Format | None = None
) -> None:
    """A number as a number; None (or NaN) as an empty cell, never as text."""
    if value is None or not math.isfinite(value):
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _percent(
    ws: Worksheet, row: int, col: int, value: float | None, fmt: Format | None = None
) -> None:
    """A percentage the report keeps in percent (82.5) as its fraction (0.825) in a percent
    format; None as an empty cell."""
    _number(ws, row, col, None if value is None else value / 100, fmt)


def _score(
    ws: Worksheet, row: int, col: int, value: float | None, metric: str, fmt: Format | None
) -> None:
    """A metric's figure in its unit: CSAT as a fraction in a percent format, others as is."""
    factor = _FACTORS.get(metric, 1.0)
    _number(ws, row, col, None if value is None else value * factor, fmt)


def _rate(ws: Worksheet, row: int, col: int, rate: Rate, f: _Formats) -> None:
    """A rate as three cells: numerator, denominator, % (empty when the denominator is 0)."""
    ws.write_number(row, col, rate.numerator)
    ws.write_number(row, col + 1, rate.denominator)
    _percent(ws, row, col + 2, rate.pct, f.number(_PERCENT))


def _header(ws: Worksheet, row: int, names: Iterable[str], fmt: Format) -> None:
    for col, name in enumerate(names):
        _text(ws, row, col, name, fmt)


def _created(data: ReportData) -> datetime:
    """The period's last day (the report is about it), so the file does not depend on the clock."""
    for found in reversed(re.findall(r"\d{4}-\d{2}-\d{2}", data.period_label)):
        try:
            return datetime.combine(date.fromisoformat(found), datetime.min.time())
        except ValueError:
            continue
    return _EPOCH


def _share_keys(blocks: Iterable[MetricBlock]) -> list[str]:
    present: dict[str, None] = {}
    for block in blocks:
        present.update(dict.fromkeys(block.shares))
    known = [key for key in _SHARE_ORDER if key in present]
    return known + [key for key in present if key not in _SHARE_ORDER]


def _words(data: ReportData) -> Localizer:
    return Localizer(data.language, data.names)


# ---------------------------------------------------------------- Summary


def _summary(wb: Any, f: _Formats, data: ReportData) -> None:
    w = _words(data)
    ws: Worksheet = wb.add_worksheet(w.text("xlsx_sheet_summary"))
    _print_setup(ws)
    _text(ws, 0, 0, data.title, f.title)
    row = 1
    for name, value in (
        (w.text("report_group"), data.group),
        (w.text("report_scope"), data.scope_label),
        (w.text("report_period"), w.period(data.period_label)),
        (w.text("report_previous"), w.period(data.previous_label)),
    ):
        _text(ws, row, 0, name, f.bold)
        _text(ws, row, 1, value)
        row += 1
    _text(ws, row, 0, w.text("report_responses"), f.bold)
    ws.write_number(row, 1, data.responses)
    row += 2
    ws.set_column(0, 0, 26)
    ws.set_column(1, 5, 14)

    if data.empty:
        _text(ws, row, 0, w.text("report_empty"), f.title)
        row += 2
    else:
        row = _metric_table(ws, f, data, row) + 1

    if data.channels:
        # Each rate beside its own numerator and denominator; messages (reminders included)
        # are volume, after the rate.
        names = (
            "report_channel", "report_answered", "report_invitations", "report_rate",
            "xlsx_messages_sent",
        )  # fmt: skip
        _header(ws, row, [w.text(name) for name in names], f.header)
        row += 1
        messages_sent = sum(c.messages for c in data.channels)
        rates = [(w.text("report_all_channels"), data.response_rate, messages_sent)]
        rates += [(w.channel(c.channel), c.rate, c.messages) for c in data.channels]
        for name, rate, messages in rates:
            _text(ws, row, 0, name)
            _rate(ws, row, 1, rate, f)
            ws.write_number(row, 4, messages)
            row += 1
        _text(ws, row, 0, w.text("report_after_reminder"), f.bold)
        _rate(ws, row, 1, data.after_reminder, f)
        row += 2

    fu = data.follow_up
    if not data.empty or fu.tasks_created or fu.tasks_done or fu.decided:
        # "SLA missed" includes the tasks still open past their deadline ("Open past due").
        headers = (
            "report_tasks_created", "report_tasks_done", "report_sla_met", "xlsx_sla_missed",
            "xlsx_sla_met_pct", "xlsx_completed", "xlsx_not_reached", "xlsx_expired",
            "report_open", "xlsx_overdue", "xlsx_reached", "xlsx_mean_hours",
        )  # fmt: skip
        _header(ws, row, [w.text(name) for name in headers], f.header)
        row += 1
        for col, count in enumerate((fu.tasks_created, fu.tasks_done, fu.sla_met, fu.sla_missed)):
            ws.write_number(row, col, count)
        _percent(ws, row, 4, fu.sla_met_pct, f.number(_PERCENT))
        outcomes = (fu.completed, fu.not_reached, fu.expired, fu.open, fu.overdue, fu.reached)
        for col, count in enumerate(outcomes, start=5):
            ws.write_number(row, col, count)
        _number(ws, row, 11, fu.mean_hours_to_agent, f.number("0.0"))


def _metric_table(ws: Worksheet, f: _Formats, data: ReportData, row: int) -> int:
    """One row per survey x metric from `row` on (its header there, frozen); the next free row."""
    w = _words(data)
    shares = _share_keys(data.blocks)
    names = [
        w.text("report_survey"),
        w.text("report_metric"),
        w.text("report_score"),
        w.text("xlsx_low"),
        w.text("xlsx_high"),
        "n",
        *(w.text("xlsx_share_pct", share=w.share(key)) for key in shares),
        w.text("report_mean"),
        w.text("xlsx_mean_low"),
        w.text("xlsx_mean_high"),
        w.text("report_change"),
        w.text("xlsx_verdict"),
        "p",
        w.text("xlsx_note"),
    ]
    _header(ws, row, names, f.header)
    head_row = row
    ws.freeze_panes(row + 1, 0)
    ws.set_column(2, len(names) - 1, 12)
    verdict_column = len(names) - 2
    ws.set_column(verdict_column, verdict_column, 22)
    row += 1
    for block in data.blocks:
        value_format = f.number(_VALUE_FORMATS.get(block.metric, "0.0"))
        _text(ws, row, 0, w.survey(block.survey_id))
        _text(ws, row, 1, w.metric(block.metric))
        # A withheld figure (too few answers) is three empty cells and a note, never a number.
        headline = block.headline
        _score(ws, row, 2, headline.value, block.metric, value_format)
        _score(ws, row, 3, headline.low, block.metric, value_format)
        _score(ws, row, 4, headline.high, block.metric, value_format)
        ws.write_number(row, 5, headline.n)
        col = 6
        for key in shares:
            share = block.shares.get(key)
            _percent(ws, row, col, share.value if share else None, f.number(_PERCENT))
            col += 1
        mean = block.mean
        for offset, part in enumerate(("value", "low", "high")):
            figure = getattr(mean, part) if mean else None
            _number(ws, row, col + offset, figure, f.number("0.00"))
        change_format = f.number(_CHANGE_FORMATS.get(block.metric, "+0.0;-0.0;0.0"))
        _number(ws, row, col + 3, block.change.difference, change_format)
        _text(ws, row, col + 4, w.verdict(block.change.verdict))
        _number(ws, row, col + 5, block.change.p_value, f.number("0.000"))
        if headline.too_few:
            _text(ws, row, col + 6, w.text("report_too_few"))
        row += 1
    ws.autofilter(head_row, 0, row - 1, len(names) - 1)
    return row


# ---------------------------------------------------------------- Trend


def _value_axis(metric: str | None, values: Iterable[float]) -> dict[str, Any]:
    """A chart's value axis: the metric's scale unless a value lies outside it."""
    if metric not in METRIC_RANGES:
        return {"major_gridlines": {"visible": True}}
    axis: dict[str, Any] = {
        "num_format": _CHART_FORMATS[metric],
        "major_gridlines": {"visible": True},
    }
    factor = _FACTORS.get(metric, 1.0)
    low, high = (bound * factor for bound in METRIC_RANGES[metric])
    values = [value * factor for value in values]
    if not values or (low <= min(values) and max(values) <= high):
        axis.update({"min": low, "max": high, "major_unit": _MAJOR_UNITS[metric]})
    return axis


def _interval_bars(points: Iterable[Any], metric: str | None) -> dict[str, Any]:
    """Custom error bars from each figure to its 95 % interval's ends (0 where there is none:
    a period or segment without a figure draws nothing)."""
    factor = _FACTORS.get(metric or "", 1.0)
    plus, minus = [], []
    for point in points:
        value, low, high = point.value, point.low, point.high
        shown = value is not None and low is not None and high is not None
        plus.append(round((high - value) * factor, 6) if shown else 0)
        minus.append(round((value - low) * factor, 6) if shown else 0)
    return {
        "type": "custom",
        "plus_values": plus,
        "minus_values": minus,
        "end_style": 1,
        "line": {"color": "#6B7280", "width": 1},
    }


def _data_labels(metric: str | None) -> dict[str, Any]:
    return {"value": True, "num_format": _CHART_FORMATS.get(metric or "", "General")}


def _chart_text(text: str) -> str:
    """A chart title or series name: XlsxWriter reads one starting with "=" as a reference."""
    text = clean_text(text)
    return f" {text}" if text.startswith("=") else text


def _print_setup(ws: Worksheet) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # as wide as one page, as long as it takes


def _trend(wb: Any, f: _Formats, data: ReportData) -> None:
    w = _words(data)
    sheet = w.text("xlsx_sheet_trend")
    ws: Worksheet = wb.add_worksheet(sheet)
    _print_setup(ws)
    metric = trend_metric(data)
    names = (w.text("report_period"), data.trend_metric_label, "n")
    _header(ws, 0, (*names, w.text("xlsx_low"), w.text("xlsx_high")), f.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 4, 10)
    value_format = f.number(_VALUE_FORMATS.get(metric or "", "0.0"))
    for row, point in enumerate(data.trend, start=1):
        # A period without answers, or with too few, has no value: a gap in the chart.
        _text(ws, row, 0, w.period(point.label))
        _score(ws, row, 1, point.value, metric or "", value_format)
        ws.write_number(row, 2, point.n)
        _score(ws, row, 3, point.low, metric or "", value_format)
        _score(ws, row, 4, point.high, metric or "", value_format)
    ws.autofilter(0, 0, max(len(data.trend), 1), 4)
    if not trend_has_values(data):  # XlsxWriter (and Excel) want a series with data
        return
    last = len(data.trend)
    chart = wb.add_chart({"type": "line"})
    chart.add_series(
        {
            "name": [sheet, 0, 1],
            "categories": [sheet, 1, 0, last, 0],
            "values": [sheet, 1, 1, last, 1],
            "line": {"color": "#1D4ED8", "width": 2.25},
            "marker": {
                "type": "circle",
                "size": 7,
                "fill": {"color": "#1D4ED8"},
                "border": {"color": "#1D4ED8"},
            },
            "data_labels": {**_data_labels(metric), "position": "above"},
            # The 95 % interval of each period (columns D and E) as error bars.
            "y_error_bars": _interval_bars(data.trend, metric),
        }
    )
    chart.set_title({"name": [sheet, 0, 1]})  # the header cell: a literal text
    chart.set_legend({"none": True})
    chart.show_blanks_as("gap")
    values = [p.value for p in data.trend if p.value is not None]
    axis = _value_axis(metric, values)
    if data.trend_axis is not None:  # the data's own range (with its intervals), not the scale
        factor = _FACTORS.get(metric or "", 1.0)
        axis.update({"min": data.trend_axis[0] * factor, "max": data.trend_axis[1] * factor})
        axis.pop("major_unit", None)
    chart.set_y_axis(axis)
    # Period labels at the bottom even when the axis crosses at 0 (NPS): that line is the zero.
    chart.set_x_axis({"label_position": "low"})
    chart.set_size({"width": 640, "height": 320})
    ws.insert_chart(1, 6, chart)


# ---------------------------------------------------------------- Segments


def _segment_groups(segments: Iterable[SegmentRow]) -> list[list[SegmentRow]]:
    """Rows per survey x metric x attribute, in the report's order, those with a figure first
    (the chart's rows), then those with too few answers."""
    groups: dict[tuple[str, str, str], list[SegmentRow]] = {}
    for seg in segments:
        groups.setdefault((seg.survey_id, seg.metric, seg.attribute), []).append(seg)
    return [
        [r for r in rows if r.headline.shown] + [r for r in rows if not r.headline.shown]
        for rows in groups.values()
    ]


def _segments(wb: Any, f: _Formats, data: ReportData) -> None:
    w = _words(data)
    sheet = w.text("xlsx_sheet_segments")
    ws: Worksheet = wb.add_worksheet(sheet)
    _print_setup(ws)
    names = (
        "report_survey", "report_metric", "xlsx_attribute", "report_segment", "report_score",
        "xlsx_low", "xlsx_high",
    )  # fmt: skip
    headers = [w.text(name) for name in names]
    more = ("report_standing", "xlsx_difference_rest", "xlsx_p_holm")
    _header(ws, 0, (*headers, "n", *(w.text(name) for name in more)), f.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 3, 16)
    ws.set_column(4, 7, 10)
    ws.set_column(8, 8, 20)
    ws.set_column(9, 10, 12)
    row = 1
    chart_row = 1
    for group in _segment_groups(data.segments):
        first = row
        for seg in group:
            value_format = f.number(_VALUE_FORMATS.get(seg.metric, "0.0"))
            _text(ws, row, 0, w.survey(seg.survey_id))
            _text(ws, row, 1, w.metric(seg.metric))
            _text(ws, row, 2, w.attribute(seg.attribute))
            _text(ws, row, 3, w.value(seg.attribute, seg.value), f.outside)
            _score(ws, row, 4, seg.headline.value, seg.metric, value_format)
            _score(ws, row, 5, seg.headline.low, seg.metric, value_format)
            _score(ws, row, 6, seg.headline.high, seg.metric, value_format)
            ws.write_number(row, 7, seg.headline.n)
            _text(ws, row, 8, w.text(_STANDINGS[seg.standing]))
            change_format = f.number(_CHANGE_FORMATS.get(seg.metric, "+0.0;-0.0;0.0"))
            _number(ws, row, 9, seg.difference, change_format)
            _number(ws, row, 10, seg.p_value, f.number("0.000"))
            row += 1
        shown = sum(1 for seg in group if seg.headline.shown)
        if shown:
            chart_row = _segment_chart(wb, ws, data, sheet, group[:shown], first, chart_row)
    ws.autofilter(0, 0, max(row - 1, 1), 10)


def _segment_chart(
    wb: Any,
    ws: Worksheet,
    data: ReportData,
    sheet: str,
    shown: list[SegmentRow],
    first: int,
    at_row: int,
) -> int:
    """A bar chart of one group's rows with a figure (rows first..first+len(shown)-1, in the
    report's order: set apart first, then no clear difference); the next free row."""
    w = _words(data)
    head = shown[0]
    count = len(shown)
    last = first + count - 1
    metric, survey = w.metric(head.metric), w.survey(head.survey_id)
    attribute = w.attribute(head.attribute)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": _chart_text(w.text("xlsx_series", metric=metric, survey=survey)),
            "categories": [sheet, first, 3, last, 3],
            "values": [sheet, first, 4, last, 4],
            "fill": {"color": "#1D4ED8"},
            "data_labels": _data_labels(head.metric),
            "y_error_bars": _interval_bars([seg.headline for seg in shown], head.metric),
        }
    )
    title = w.text("xlsx_segment_chart_title", metric=metric, attribute=attribute, survey=survey)
    chart.set_title({"name": _chart_text(title)})
    chart.set_legend({"none": True})
    values = [seg.headline.value for seg in shown if seg.headline.value is not None]
    chart.set_x_axis(_value_axis(head.metric, values))  # a bar chart's value axis is x
    # The first row at the top, the value axis still at the bottom.
    chart.set_y_axis({"reverse": True, "label_position": "low", "crossing": "max"})
    height = max(220, 90 + 28 * count)
    chart.set_size({"width": 520, "height": height})
    ws.insert_chart(at_row, 10, chart)
    return at_row + math.ceil(height / 20) + 1


# ---------------------------------------------------------------- Comments


def _comments(wb: Any, f: _Formats, data: ReportData) -> None:
    w = _words(data)
    ws: Worksheet = wb.add_worksheet(w.text("xlsx_sheet_comments"))
    _print_setup(ws)
    names = ("xlsx_date", "report_survey", "report_metric", "report_score", "xlsx_comment")
    _header(ws, 0, [w.text(name) for name in names], f.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 2, 16)
    ws.set_column(3, 3, 7)
    ws.set_column(4, 4, 80)
    for row, comment in enumerate(data.comments, start=1):
        try:
            day = datetime.combine(date.fromisoformat(comment.answered_on), datetime.min.time())
            ws.write_datetime(row, 0, day, f.date)
        except ValueError:
            _text(ws, row, 0, comment.answered_on, f.top)
        _text(ws, row, 1, w.survey(comment.survey_id), f.top)
        _text(ws, row, 2, w.metric(comment.metric), f.top)
        ws.write_number(row, 3, comment.score, f.top)
        # Literal text whatever it starts with ("=", "+", "-", "@"): never a formula or a link.
        _text(ws, row, 4, comment.text, f.outside_wrap)
    ws.autofilter(0, 0, max(len(data.comments), 1), 4)


def report_workbook(data: ReportData) -> bytes:
    """The report as an .xlsx file's bytes (sheets Summary, Trend, Segments, Comments, named in
    the report's language)."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            # Belt and braces: only _text writes text here (write_string never converts).
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"title": data.title, "created": _created(data)})
    formats = _Formats(wb)
    _summary(wb, formats, data)
    _trend(wb, formats, data)
    _segments(wb, formats, data)
    _comments(wb, formats, data)
    wb.close()
    return out.getvalue()
