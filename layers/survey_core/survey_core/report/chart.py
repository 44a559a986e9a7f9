"""The manager report's trend chart: a PNG line chart of ReportData.trend for the HTML email,
and its one-sentence text alternative for the image's alt attribute.

Drawn with Pillow, at twice the size and scaled down, so lines are smooth, in DejaVu Sans: the
report function ships the font and names it with font.use_font() (the shared layer has neither
Pillow nor the font; Pillow is imported only when a chart is drawn). Without it, Pillow's own
font, which has ASCII only: letters a font lacks are drawn without their accents (ä -> a) on
the image; the alt text keeps them. The same data gives the same bytes: nothing here reads the
clock or the machine's fonts. Every word, number and period label is in the report's language
(message catalogues, messages/formatting.py: "vk 47", "82 %", "5,4").

A trend with no value at all (every period without answers, or no periods) still gives a
valid PNG, with axes and a "no answers" note; `trend_has_values` tells the email whether to
show the chart at all.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from ..messages.formatting import format_number, format_percent, format_period_key
from ..messages.i18n import text
from .font import chosen_font
from .model import ReportData, TrendPoint
from .stats import HEADLINE_SCALES, trend_axis

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

# The headline's scale per metric (see MetricBlock): NPS -100..100, CSAT % 0..100, CES 1..7.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0),
    "csat": (0.0, 100.0),
    "ces": (1.0, 7.0),
}
_TICKS: dict[str, tuple[float, ...]] = {
    "nps": (-100.0, -50.0, 0.0, 50.0, 100.0),
    "csat": (0.0, 25.0, 50.0, 75.0, 100.0),
    "ces": (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
}

# Colours on white: text and the line pass WCAG AA (4.5:1) by a wide margin.
_BACKGROUND = (255, 255, 255)
_TEXT = (31, 41, 55)  # 14.7:1 on white
_MUTED = (75, 85, 99)  # 7.6:1 on white: axis labels and the gap mark
_GRID = (229, 231, 235)  # decoration only
_ZERO = (107, 114, 128)  # the NPS zero line, 4.8:1
_LINE = (29, 78, 216)  # 6.7:1 on white
_BAND = (219, 230, 252)  # the 95 % band: a light tint of the line's blue, decoration only
# The reference series (e.g. the team beside an agent's own line): a muted amber, 4.8:1 on
# white (non-text graphics need 3:1, WCAG 1.4.11), dashed and with hollow square markers, so
# it is told from the own line without its colour.
_REFERENCE = (180, 83, 9)

_SCALE = 2  # drawn at twice the size, then scaled down (anti-aliasing)

# The few words of the alt text and the image: message ids (messages/locale/*.po).
_GRANULARITY = {
    "week": "chart_by_week",
    "month": "chart_by_month",
    "day": "chart_by_day",
    "period": "chart_by_period",
}
_GAP = "chart_gap"
_NO_ANSWERS = "chart_no_answers"


def trend_metric(data: ReportData) -> str | None:
    """nps | csat | ces: what the trend shows, read from trend_metric_label ("NPS, post-purchase")
    or, failing that, from the blocks (a block whose label starts the trend's label, or the one
    metric all blocks share). None when it cannot be told."""
    label = data.trend_metric_label.strip().lower()
    first = re.split(r"[\s,:;(/-]+", label, maxsplit=1)[0]
    if first in METRIC_RANGES:
        return first
    for block in data.blocks:
        if block.label and label.startswith(block.label.strip().lower()):
            return block.metric
    metrics = {block.metric for block in data.blocks}
    return metrics.pop() if len(metrics) == 1 else None


def trend_has_values(data: ReportData) -> bool:
    """Whether the trend has at least one period with a value (else the chart shows no line)."""
    return any(point.value is not None for point in data.trend)


def format_value(value: float, metric: str | None, language: str = "en") -> str:
    """A point's value as printed on the chart and in the alt text, in the report's language:
    NPS and CSAT whole numbers (CSAT as a percentage: "82 %" in Finnish), CES one decimal."""
    if metric == "ces":
        return format_number(language, value, 1)
    if metric == "csat":
        return format_percent(language, value, 0)
    if metric == "nps":
        return format_number(language, value, 0)
    return format_number(language, value, 0 if float(value).is_integer() else 1)


def _granularity(labels: Sequence[str]) -> str:
    if labels and all(re.fullmatch(r"\d{4}-W\d{2}", label) for label in labels):
        return "week"
    if labels and all(re.fullmatch(r"\d{4}-\d{2}", label) for label in labels):
        return "month"
    if labels and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) for label in labels):
        try:
            days = [date.fromisoformat(label) for label in labels]
        except ValueError:
            return "period"
        steps = {(b - a).days for a, b in itertools.pairwise(days)}
        if steps == {1}:
            return "day"
        if steps == {7}:
            return "week"
        if steps and steps <= set(range(28, 32)):
            return "month"
    return "period"


class Reference(Struct, frozen=True, kw_only=True):
    """A second series drawn beside the trend for comparison, e.g. an agent's team beside the
    agent: a thinner dashed line with hollow markers, without a band or value labels. Its
    points have the same period labels, in the same order, as the trend's. The labels are
    already in the chart's language and shown as given: `label` names this series ("Tiimi"),
    `own_label` the trend's own line ("Sinä") in the legend."""

    label: str
    points: Sequence[TrendPoint]
    own_label: str


def _check_reference(data: ReportData, reference: Reference | None) -> None:
    if reference is None:
        return
    own = [point.label for point in data.trend]
    theirs = [point.label for point in reference.points]
    if own != theirs:
        raise ValueError(f"the reference's periods {theirs} are not the trend's {own}")


def _points_text(language: str, points: Sequence[TrendPoint], metric: str | None) -> str:
    return ", ".join(
        f"{format_period_key(language, point.label)} "
        + (
            text(language, _GAP)
            if point.value is None
            else format_value(point.value, metric, language)
        )
        for point in points
    )


def trend_alt_text(data: ReportData, reference: Reference | None = None) -> str:
    """One sentence naming every point, in the report's language, e.g.
    "NPS, After purchase, by week: wk 45/2026 12, wk 46/2026 n/a, wk 47/2026 30"; with a
    reference, its points follow: "...; Team: wk 45/2026 20, wk 46/2026 18, wk 47/2026 25"."""
    _check_reference(data, reference)
    language = data.language
    metric = trend_metric(data)
    labels = [point.label for point in data.trend]
    head = f"{data.trend_metric_label}, {text(language, _GRANULARITY[_granularity(labels)])}"
    if not trend_has_values(data):
        sentence = f"{head}: {text(language, _NO_ANSWERS)}"
    else:
        sentence = f"{head}: {_points_text(language, data.trend, metric)}"
    if reference is None:
        return sentence
    if any(point.value is not None for point in reference.points):
        theirs = _points_text(language, reference.points, metric)
    else:
        theirs = text(language, _NO_ANSWERS)
    return f"{sentence}; {reference.label}: {theirs}"


def _nice_ticks(low: float, high: float) -> tuple[float, float, tuple[float, ...]]:
    """An axis for an unknown metric: about five round steps covering low..high."""
    if math.isclose(low, high):
        low, high = low - 1.0, high + 1.0
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    count = round((stop - start) / step)
    return float(start), float(stop), tuple(float(start + i * step) for i in range(count + 1))


def _axis(
    metric: str | None, values: Sequence[float], y_range: tuple[float, float] | None
) -> tuple[float, float, tuple[float, ...]]:
    if y_range is not None:
        low, high = y_range
        if values:
            low, high = min(low, *values), max(high, *values)
        if metric in _TICKS and (low, high) == METRIC_RANGES[metric]:
            return low, high, _TICKS[metric]
        return _nice_ticks(low, high)
    if metric in METRIC_RANGES:
        low, high = METRIC_RANGES[metric]
        if all(low <= value <= high for value in values):
            return low, high, _TICKS[metric]
        return _nice_ticks(min(low, *values), max(high, *values))
    if values:
        return _nice_ticks(min(values), max(values))
    return _nice_ticks(0.0, 100.0)


def _shorten(labels: list[str], language: str) -> list[str]:
    """ "2026-W45" -> "vk 45", "2026-11-16" -> "16.11." when every label has the same year."""
    years = {label[:5] for label in labels}
    if len(years) == 1 and re.fullmatch(r"\d{4}-", next(iter(years))):
        return [format_period_key(language, label, short=True) for label in labels]
    return [format_period_key(language, label) for label in labels]


class _Canvas(Struct):
    """The drawing at _SCALE times the final size, with the plot area's edges in its pixels,
    and the title and the legend (with a reference series) placed above it."""

    draw: ImageDraw.ImageDraw
    font: ImageFont.FreeTypeFont
    value_font: ImageFont.FreeTypeFont
    left: float
    right: float
    top: float
    bottom: float
    low: float
    high: float
    language: str
    title: PlacedText | None = None
    legend: list[PlacedText] = field(default_factory=list)

    def y_of(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def width_of(self, texts: Sequence[str]) -> float:
        return max(self.draw.textlength(text, font=self.font) for text in texts)


def _freetype(size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    font_path = chosen_font()
    if font_path is not None:
        return ImageFont.truetype(str(font_path), size=size)
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow's wheels include FreeType
        raise RuntimeError("Pillow was built without FreeType: the chart needs it")
    return font


# A character the font lacks is spelled with its base letter (or "?") on the image; the alt
# text and the email keep it as written.
_REPLACEMENTS = {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "ß": "ss"}
_REPLACEMENTS |= {"æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE"}


def _has_glyph(char: str) -> bool:
    return _font_has_glyph(chosen_font(), char)


@functools.cache
def _font_has_glyph(font_path: Path | None, char: str) -> bool:
    """Per font (use_font may name another): whether it draws the character."""
    font = _freetype(20)
    return char == " " or bytes(font.getmask(char)) != bytes(font.getmask("\uffff"))


def _drawable(text: str) -> str:
    """The text with the characters the bundled font lacks spelled with ones it has."""
    out = []
    for char in text:
        if _has_glyph(char):
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if _has_glyph(c))
        out.append(base or _REPLACEMENTS.get(char, "?"))
    return "".join(out)


def _tick_text(value: float, metric: str | None, language: str) -> str:
    """An axis label: whole numbers without decimals (CES 1..7), else as the points show."""
    if float(value).is_integer():
        if metric == "csat":
            return format_percent(language, value, 0)
        return format_number(language, value, 0)
    return format_value(value, metric, language)


def _draw_axis(c: _Canvas, metric: str | None, ticks: Sequence[float]) -> None:
    s = _SCALE
    for tick in ticks:
        y = c.y_of(tick)
        zero = metric == "nps" and tick == 0
        colour, thickness = (_ZERO, 2) if zero else (_GRID, 1)
        c.draw.line([(c.left, y), (c.right, y)], fill=colour, width=thickness * s)
        label = _tick_text(tick, metric, c.language)
        c.draw.text((c.left - 8 * s, y), label, font=c.font, fill=_MUTED, anchor="rm")


def _label_step(c: _Canvas, keys: list[str], step: float) -> tuple[list[str], int]:
    """Period labels (from the points' ISO keys) that fit side by side: in full, shortened,
    then only every k-th one."""
    pad = 6 * _SCALE
    labels = [_drawable(format_period_key(c.language, key)) for key in keys]
    if c.width_of(labels) + pad > step:
        labels = [_drawable(label) for label in _shorten(keys, c.language)]
    return labels, max(1, math.ceil((c.width_of(labels) + pad) / step))


class PlottedPoint(Struct, frozen=True):
    """One period as drawn: its x, and its value's y and interval's ys (None: no figure, a gap
    in the line with nothing drawn in the plot)."""

    label: str  # the period's ISO key
    x: float
    y: float | None
    low_y: float | None
    high_y: float | None


class PlacedText(Struct, frozen=True):
    """A text on the chart and its box (left, top, right, bottom) in the drawing's pixels."""

    text: str
    box: tuple[float, float, float, float]


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class ChartLayout(Struct):
    """Where everything goes, before anything is drawn: what the tests check the chart by."""

    points: list[PlottedPoint]
    # Each run of neighbouring points with an interval: the shaded 95 % band's outline.
    bands: list[list[tuple[float, float]]]
    period_labels: list[PlacedText]
    value_labels: list[PlacedText]
    font_size: float  # the texts' size in the final image's pixels
    # With a reference series: its points, on the same xs as `points` (no interval: no band)
    reference_points: list[PlottedPoint] = field(default_factory=list)
    # The legend's entries (own line, then the reference), each box covering its line sample
    # and its text; empty without a reference.
    legend: list[PlacedText] = field(default_factory=list)
    title: PlacedText | None = None  # the title as drawn (shortened to fit with a legend)
    plot: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # the plot area's edges


def _period_labels(
    c: _Canvas, keys: list[str], xs: list[float], shown: list[bool]
) -> list[PlacedText]:
    labels, _ = _label_step(c, keys, (c.right - c.left) / len(keys))
    placed = []
    top = c.bottom + 6 * _SCALE
    for x, label, show in zip(xs, labels, shown, strict=True):
        if show:
            half = c.draw.textlength(label, font=c.font) / 2
            placed.append(PlacedText(label, (x - half, top, x + half, top + c.font.size)))
    return placed


def _bands(plotted: list[PlottedPoint], step: float) -> list[list[tuple[float, float]]]:
    """The band's outline for each run of neighbouring points with an interval; a lone point
    gets a short band around it."""
    bands: list[list[tuple[float, float]]] = []
    run: list[PlottedPoint] = []
    for point in [*plotted, None]:
        if point is not None and point.low_y is not None and point.high_y is not None:
            run.append(point)
            continue
        if run:
            top = [(p.x, p.high_y) for p in run if p.high_y is not None]
            bottom = [(p.x, p.low_y) for p in reversed(run) if p.low_y is not None]
            if len(run) == 1:
                half = min(step * 0.18, 10 * _SCALE)
                (x, hi), (_, lo) = top[0], bottom[0]
                top, bottom = [(x - half, hi), (x + half, hi)], [(x + half, lo), (x - half, lo)]
            bands.append(top + bottom)
            run = []
    return bands


def _value_labels(
    c: _Canvas,
    plotted: list[PlottedPoint],
    texts: list[str | None],
    shown: list[bool],
    taken: list[tuple[float, float, float, float]],
) -> list[PlacedText]:
    """Each shown value above its point, else below it; one that would touch another label,
    leave the plot or reach the period labels is left out (the alt text and the workbook have
    every value)."""
    s = _SCALE
    offset, height, pad = 8.5 * s, c.value_font.size, 3 * s
    taken = list(taken)
    placed = []
    for point, value_text, show in zip(plotted, texts, shown, strict=True):
        if point.y is None or value_text is None or not show:
            continue
        half = c.draw.textlength(value_text, font=c.value_font) / 2 + pad
        for top in (point.y - offset - height, point.y + offset):
            box = (point.x - half, top - pad, point.x + half, top + height + pad)
            inside = box[1] >= c.top - 10 * s and box[3] <= c.bottom + 2 * s
            if inside and not any(overlaps(box, other) for other in taken):
                placed.append(PlacedText(value_text, box))
                taken.append(box)
                break
    return placed


def _layout_points(
    c: _Canvas,
    points: Sequence[TrendPoint],
    metric: str | None,
    reference: Reference | None = None,
) -> ChartLayout:
    count = len(points)
    step = (c.right - c.left) / count
    xs = [c.left + step * (i + 0.5) for i in range(count)]
    keys = [point.label for point in points]
    _, every = _label_step(c, keys, step)
    # Every k-th period label and value, counted from the newest, which always has both.
    shown = [(count - 1 - i) % every == 0 for i in range(count)]
    plotted = []
    for x, p in zip(xs, points, strict=True):
        if p.value is None:  # no figure: nothing in the plot
            plotted.append(PlottedPoint(p.label, x, None, None, None))
            continue
        low_y = None if p.low is None else min(c.bottom, c.y_of(p.low))
        high_y = None if p.high is None else max(c.top, c.y_of(p.high))
        plotted.append(PlottedPoint(p.label, x, c.y_of(p.value), low_y, high_y))
    period_labels = _period_labels(c, keys, xs, shown)
    texts = [None if p.value is None else format_value(p.value, metric, c.language) for p in points]
    reference_points = (
        []
        if reference is None
        else [
            PlottedPoint(p.label, x, None if p.value is None else c.y_of(p.value), None, None)
            for x, p in zip(xs, reference.points, strict=True)
        ]
    )
    # A value label keeps off the period labels, the legend and the reference's markers.
    taken = [label.box for label in period_labels] + [entry.box for entry in c.legend]
    half = _MARKER_HALF
    taken += [
        (p.x - half, p.y - half, p.x + half, p.y + half)
        for p in reference_points
        if p.y is not None
    ]
    values = _value_labels(c, plotted, texts, shown, taken)
    return ChartLayout(
        plotted,
        _bands(plotted, step),
        period_labels,
        values,
        c.font.size / _SCALE,
        reference_points,
        list(c.legend),
        c.title,
        (c.left, c.top, c.right, c.bottom),
    )


_DASH = (7 * _SCALE, 5 * _SCALE)  # the reference line's dash and gap
_MARKER_HALF = 3.5 * _SCALE  # half the side of the reference's square markers


def _dashed(
    draw: ImageDraw.ImageDraw,
    a: tuple[float, float],
    b: tuple[float, float],
    phase: float = 0.0,
) -> float:
    """A dashed reference line from a to b (Pillow has no dashes: short segments), starting
    `phase` pixels into the dash pattern; returns the phase at b, so a line goes on evenly."""
    on, off = _DASH
    period = on + off
    length = math.dist(a, b)
    done = 0.0
    while length - done > 1e-9:
        at = (phase + done) % period
        run = min((on - at) if at < on else (period - at), length - done)
        if at < on:
            start, end = done / length, (done + run) / length
            draw.line(
                [
                    (a[0] + (b[0] - a[0]) * start, a[1] + (b[1] - a[1]) * start),
                    (a[0] + (b[0] - a[0]) * end, a[1] + (b[1] - a[1]) * end),
                ],
                fill=_REFERENCE,
                width=2 * _SCALE,
            )
        done += run
    return (phase + length) % period


def _square(draw: ImageDraw.ImageDraw, x: float, y: float) -> None:
    """The reference's marker: a small hollow square."""
    half = _MARKER_HALF
    draw.rectangle(
        [x - half, y - half, x + half, y + half], fill=_BACKGROUND, outline=_REFERENCE, width=_SCALE
    )


def _draw_reference(c: _Canvas, layout: ChartLayout) -> None:
    coords = [None if p.y is None else (p.x, p.y) for p in layout.reference_points]
    phase = 0.0
    for a, b in itertools.pairwise(coords):
        phase = _dashed(c.draw, a, b, phase) if a is not None and b is not None else 0.0
    for coord in coords:
        if coord is not None:
            _square(c.draw, *coord)


def _draw_legend(c: _Canvas, legend: list[PlacedText]) -> None:
    s = _SCALE
    for index, entry in enumerate(legend):
        left, top, _, bottom = entry.box
        y = (top + bottom) / 2
        end = left + _LEGEND_SAMPLE
        if index == 0:
            c.draw.line([(left, y), (end, y)], fill=_LINE, width=3 * s)
            radius = 3.5 * s
            middle = (left + end) / 2
            c.draw.ellipse([middle - radius, y - radius, middle + radius, y + radius], fill=_LINE)
        else:
            _dashed(c.draw, (left, y), (end, y))
            _square(c.draw, (left + end) / 2, y)
        x = end + _LEGEND_GAP
        c.draw.text((x, y), entry.text, font=c.font, fill=_MUTED, anchor="lm")


def _draw_layout(c: _Canvas, layout: ChartLayout) -> None:
    s = _SCALE
    for outline in layout.bands:
        c.draw.polygon(outline, fill=_BAND)
    if layout.reference_points:  # under the own line, over its band
        _draw_reference(c, layout)
    coords = [None if p.y is None else (p.x, p.y) for p in layout.points]
    for a, b in itertools.pairwise(coords):  # a segment between neighbours that both have one
        if a is not None and b is not None:
            c.draw.line([a, b], fill=_LINE, width=3 * s)
    radius = 4.5 * s
    for coord in coords:
        if coord is not None:
            x, y = coord
            c.draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=_LINE)
    for label in layout.period_labels:
        x = (label.box[0] + label.box[2]) / 2
        c.draw.text((x, label.box[1]), label.text, font=c.font, fill=_MUTED, anchor="ma")
    for label in layout.value_labels:
        x, y = (label.box[0] + label.box[2]) / 2, (label.box[1] + label.box[3]) / 2
        c.draw.text(
            (x, y),
            label.text,
            font=c.value_font,
            fill=_TEXT,
            anchor="mm",
            stroke_width=3 * s,  # a white halo: readable where it crosses a line or the band
            stroke_fill=_BACKGROUND,
        )


# The texts' size in the image, as a share of its width: the 640 px image shows about 340 px
# wide on a phone, where this gives 12 px text (the axis, the periods) and 13 px values.
_TEXT_SHARE = 0.036


# The legend's line sample, the space after it and between two entries (drawing pixels).
_LEGEND_SAMPLE = 22 * _SCALE
_LEGEND_GAP = 5 * _SCALE
_LEGEND_BETWEEN = 14 * _SCALE


def _data_axis(data: ReportData, reference: Reference | None) -> tuple[float, float] | None:
    """The data's own axis (ReportData.trend_axis: the own intervals, padded), widened to the
    reference's values: stats.trend_axis of both, on the trend metric's scale."""
    if reference is None:
        return data.trend_axis
    scale = HEADLINE_SCALES.get(data.trend_metric)
    if scale is None:
        return None
    own = [(p.low, p.high) for p in data.trend if p.low is not None and p.high is not None]
    theirs = [(p.value, p.value) for p in reference.points if p.value is not None]
    return trend_axis(own + theirs, scale)


def _fit(draw: ImageDraw.ImageDraw, label: str, font: ImageFont.FreeTypeFont, room: float) -> str:
    """The label, cut short with an ellipsis when it is wider than room."""
    if draw.textlength(label, font=font) <= room:
        return label
    cut = label
    while cut and draw.textlength(cut.rstrip() + "…", font=font) > room:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def _header(
    draw: ImageDraw.ImageDraw,
    title: str,
    fonts: tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont],
    width: int,
    reference: Reference | None,
) -> tuple[PlacedText, list[PlacedText], float]:
    """The title (top left) and, with a reference, the legend: in the title's row at the right
    when both fit, else right-aligned under the title (one row, or one per entry), the title
    shortened to the image's width. Returns them and how much lower the plot must start."""
    font, big = fonts
    s = _SCALE
    pad = 10 * s
    ascent, descent = big.getmetrics()
    title_bottom = pad + ascent + descent
    if reference is None:
        length = draw.textlength(title, font=big)
        return PlacedText(title, (pad, pad, pad + length, title_bottom)), [], 0.0
    right = width * s - pad
    room = right - pad
    names = [_drawable(reference.own_label), _drawable(reference.label)]
    names = [_fit(draw, name, font, room - _LEGEND_SAMPLE - _LEGEND_GAP) for name in names]
    widths = [_LEGEND_SAMPLE + _LEGEND_GAP + draw.textlength(name, font=font) for name in names]
    row = sum(widths) + _LEGEND_BETWEEN
    ascent, descent = font.getmetrics()
    height = ascent + descent
    title_right = pad + draw.textlength(title, font=big)
    if title_right + 2 * _LEGEND_BETWEEN + row <= right:  # beside the title
        rows, y, below = [[0, 1]], pad + (title_bottom - pad - height) / 2, 0.0
    else:
        title = _fit(draw, title, big, room)
        rows = [[0, 1]] if row <= room else [[0], [1]]
        y = title_bottom + 3 * s
        below = len(rows) * (height + 3 * s)
    legend: list[PlacedText | None] = [None, None]
    for row_entries in rows:
        x = right - sum(widths[i] for i in row_entries)
        x -= _LEGEND_BETWEEN * (len(row_entries) - 1)
        for i in row_entries:
            legend[i] = PlacedText(names[i], (x, y, x + widths[i], y + height))
            x += widths[i] + _LEGEND_BETWEEN
        y += height + 3 * s
    length = draw.textlength(title, font=big)
    title_box = PlacedText(title, (pad, pad, pad + length, title_bottom))
    return title_box, [entry for entry in legend if entry is not None], below


def _canvas(
    data: ReportData,
    width: int,
    height: int,
    y_range: tuple[float, float] | None,
    reference: Reference | None = None,
) -> tuple[Any, _Canvas, str | None, tuple[float, ...]]:
    """The image and its canvas, with the axis, the title and the legend decided (nothing
    drawn yet)."""
    if width < 160 or height < 100:
        raise ValueError(f"chart too small: {width}x{height} (at least 160x100)")
    _check_reference(data, reference)
    metric = trend_metric(data)
    values = [point.value for point in data.trend if point.value is not None]
    if reference is not None:
        values += [point.value for point in reference.points if point.value is not None]
    if y_range is None:
        # the data and its intervals, padded (stats.trend_axis), and the reference's values
        y_range = _data_axis(data, reference)
    low, high, ticks = _axis(metric, values, y_range)

    from PIL import Image, ImageDraw

    s = _SCALE
    image = Image.new("RGB", (width * s, height * s), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    size = max(11, round(width * _TEXT_SHARE))
    font, big = _freetype(size * s), _freetype(round(size * 1.1) * s)
    pad = 10 * s
    language = data.language
    tick_width = max(draw.textlength(_tick_text(t, metric, language), font=font) for t in ticks)
    title, legend, below = _header(
        draw, _drawable(data.trend_metric_label), (font, big), width, reference
    )
    c = _Canvas(
        draw=draw,
        font=font,
        value_font=big,
        left=pad + tick_width + 8 * s,
        right=width * s - pad - 8 * s,
        # the top tick label clear of the title (and of a legend under it)
        top=pad + (size * 1.1 + 14 + size / 2) * s + below,
        bottom=height * s - pad - (size + 8) * s,
        low=low,
        high=high,
        language=language,
        title=title,
        legend=legend,
    )
    return image, c, metric, ticks


def trend_chart_layout(
    data: ReportData,
    *,
    width: int = 640,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
    reference: Reference | None = None,
) -> ChartLayout:
    """Where trend_chart_png puts each point, band, label and legend entry, in the drawing's
    pixels (twice the image's size)."""
    _, c, metric, _ = _canvas(data, width, height, y_range, reference)
    if not data.trend:
        plot = (c.left, c.top, c.right, c.bottom)
        return ChartLayout([], [], [], [], c.font.size / _SCALE, [], c.legend, c.title, plot)
    return _layout_points(c, data.trend, metric, reference)


def trend_chart_png(
    data: ReportData,
    *,
    width: int = 640,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
    reference: Reference | None = None,
) -> bytes:
    """A PNG line chart of data.trend: one point per period, oldest first, its value printed at
    the point where it fits, over a shaded band of its 95 % interval. A period without a figure
    (no answers, or too few) draws nothing in the plot: the line breaks there and the band with
    it. The y-axis covers y_range when given, else the data's own range (ReportData.trend_axis:
    every point's interval, padded), else the metric's scale (NPS -100..100 with a zero line,
    CSAT 0..100 %, CES 1..7); values outside it widen it.

    With a reference (e.g. the team beside an agent), its points are drawn on the same periods
    as a thinner dashed line with hollow square markers, without a band or values, the axis
    covers its values too, and a legend at the top right names both lines."""
    from PIL import Image

    image, c, metric, ticks = _canvas(data, width, height, y_range, reference)
    s = _SCALE
    pad = 10 * s
    title = _drawable(data.trend_metric_label) if c.title is None else c.title.text
    c.draw.text((pad, pad), title, font=c.value_font, fill=_TEXT)
    if c.legend:
        _draw_legend(c, c.legend)
    _draw_axis(c, metric, ticks)
    if data.trend:
        _draw_layout(c, _layout_points(c, data.trend, metric, reference))
    if not trend_has_values(data):
        middle = ((c.left + c.right) / 2, (c.top + c.bottom) / 2)
        note = _drawable(text(c.language, _NO_ANSWERS))
        c.draw.text(
            middle,
            note,
            font=c.value_font,
            fill=_MUTED,
            anchor="mm",
            stroke_width=6 * s,
            stroke_fill=_BACKGROUND,
        )

    image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
