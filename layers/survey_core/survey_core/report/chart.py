"""The manager report's trend chart: a PNG line chart of ReportData.trend for the HTML email,
and its one-sentence text alternative for the image's alt attribute.

Drawn with Pillow, at twice the size and scaled down, so lines are smooth, in DejaVu Sans: the
report function ships the font and names it with use_font() (the shared layer has neither
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..messages.formatting import format_number, format_percent, format_period_key
from ..messages.i18n import text
from .model import ReportData, TrendPoint

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


def trend_alt_text(data: ReportData) -> str:
    """One sentence naming every point, in the report's language, e.g.
    "NPS, After purchase, by week: wk 45/2026 12, wk 46/2026 n/a, wk 47/2026 30"."""
    language = data.language
    metric = trend_metric(data)
    labels = [point.label for point in data.trend]
    head = f"{data.trend_metric_label}, {text(language, _GRANULARITY[_granularity(labels)])}"
    if not trend_has_values(data):
        return f"{head}: {text(language, _NO_ANSWERS)}"
    points = ", ".join(
        f"{format_period_key(language, point.label)} "
        + (
            text(language, _GAP)
            if point.value is None
            else format_value(point.value, metric, language)
        )
        for point in data.trend
    )
    return f"{head}: {points}"


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


@dataclass
class _Canvas:
    """The drawing at _SCALE times the final size, with the plot area's edges in its pixels."""

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

    def y_of(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def width_of(self, texts: Sequence[str]) -> float:
        return max(self.draw.textlength(text, font=self.font) for text in texts)


# DejaVu Sans (free license: functions/report/fonts/DejaVuSans.LICENSE) draws Finnish and
# Swedish letters; Pillow's own default font covers ASCII only.
FONT_NAME = "DejaVuSans.ttf"
_font: list[Path] = []  # the font use_font() named


def use_font(path: Path) -> None:
    """Draw with this TrueType font (the report function's copy of DejaVu Sans)."""
    if not path.is_file():
        raise FileNotFoundError(f"no font at {path}")
    _font[:] = [path]
    _has_glyph.cache_clear()


def _freetype(size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    if _font:
        return ImageFont.truetype(str(_font[0]), size=size)
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow's wheels include FreeType
        raise RuntimeError("Pillow was built without FreeType: the chart needs it")
    return font


# A character the font lacks is spelled with its base letter (or "?") on the image; the alt
# text and the email keep it as written.
_REPLACEMENTS = {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "ß": "ss"}
_REPLACEMENTS |= {"æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE"}


@functools.cache
def _has_glyph(char: str) -> bool:
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


def _draw_points(c: _Canvas, points: Sequence[TrendPoint], metric: str | None) -> None:
    s = _SCALE
    count = len(points)
    step = (c.right - c.left) / count
    xs = [c.left + step * (i + 0.5) for i in range(count)]
    labels, every = _label_step(c, [point.label for point in points], step)
    # Every k-th label and value, counted from the newest, which always has both.
    shown = [(count - 1 - i) % every == 0 for i in range(count)]
    for x, label, show in zip(xs, labels, shown, strict=True):
        if show:
            c.draw.text((x, c.bottom + 6 * s), label, font=c.font, fill=_MUTED, anchor="ma")

    coords = [
        None if p.value is None else (x, c.y_of(p.value)) for x, p in zip(xs, points, strict=True)
    ]
    for a, b in itertools.pairwise(coords):  # a segment between neighbours that both have one
        if a is not None and b is not None:
            c.draw.line([a, b], fill=_LINE, width=3 * s)
    radius = 4.5 * s
    for x, coord, point, show in zip(xs, coords, points, shown, strict=True):
        if coord is None or point.value is None:  # no answers: a dash on the bottom line
            c.draw.line([(x - 8 * s, c.bottom), (x + 8 * s, c.bottom)], fill=_MUTED, width=3 * s)
            continue
        y = coord[1]
        c.draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=_LINE)
        if show:
            # Above the point, or below it when the point is at the top.
            above = y - radius - 4 * s - c.value_font.size > c.top - 12 * s
            anchor, ty = ("md", y - radius - 4 * s) if above else ("ma", y + radius + 4 * s)
            value_text = format_value(point.value, metric, c.language)
            c.draw.text(
                (x, ty),
                value_text,
                font=c.value_font,
                fill=_TEXT,
                anchor=anchor,
                stroke_width=3 * s,  # a white halo: readable where it crosses the line
                stroke_fill=_BACKGROUND,
            )


def trend_chart_png(
    data: ReportData,
    *,
    width: int = 640,
    height: int = 280,
    y_range: tuple[float, float] | None = None,
) -> bytes:
    """A PNG line chart of data.trend: one point per period, oldest first, its value printed at
    the point; a period without answers (value None) breaks the line and shows a dash. The
    y-axis covers y_range when given, else the data's own range (ReportData.trend_axis: every
    point's interval, padded), else the metric's scale (NPS -100..100 with a zero line, CSAT
    0..100 %, CES 1..7); values outside it widen it."""
    if width < 160 or height < 100:
        raise ValueError(f"chart too small: {width}x{height} (at least 160x100)")
    metric = trend_metric(data)
    values = [point.value for point in data.trend if point.value is not None]
    if y_range is None:
        y_range = data.trend_axis  # the data and its intervals, padded (stats.trend_axis)
    low, high, ticks = _axis(metric, values, y_range)

    from PIL import Image, ImageDraw

    s = _SCALE
    image = Image.new("RGB", (width * s, height * s), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    # Sizes for a phone, where the 640 px image shows about 340 px wide.
    size = max(11, round(height * 0.07))
    font, big = _freetype(size * s), _freetype(round(size * 1.1) * s)
    pad = 10 * s
    language = data.language
    tick_width = max(draw.textlength(_tick_text(t, metric, language), font=font) for t in ticks)
    c = _Canvas(
        draw=draw,
        font=font,
        value_font=big,
        left=pad + tick_width + 8 * s,
        right=width * s - pad - 8 * s,
        top=pad + (size * 1.1 + 14) * s,
        bottom=height * s - pad - (size + 8) * s,
        low=low,
        high=high,
        language=language,
    )
    draw.text((pad, pad), _drawable(data.trend_metric_label), font=big, fill=_TEXT)
    _draw_axis(c, metric, ticks)
    if data.trend:
        _draw_points(c, data.trend, metric)
    if not values:
        middle = ((c.left + c.right) / 2, (c.top + c.bottom) / 2)
        note = _drawable(text(language, _NO_ANSWERS))
        draw.text(
            middle,
            note,
            font=big,
            fill=_MUTED,
            anchor="mm",
            stroke_width=6 * s,
            stroke_fill=_BACKGROUND,
        )

    image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
