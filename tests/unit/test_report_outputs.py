"""The report's trend chart (PNG, read back with Pillow) and its .xlsx attachment (read back with
openpyxl) against the ReportData they were made from."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace
from openpyxl import load_workbook
from PIL import Image
from survey_core.messages.formatting import format_period_key
from survey_core.messages.i18n import text as message
from survey_core.messages.localizer import Localizer
from survey_core.messages.names import DisplayNames
from survey_core.report.chart import (
    _REFERENCE,
    Reference,
    _drawable,
    format_value,
    overlaps,
    trend_alt_text,
    trend_chart_layout,
    trend_chart_png,
    trend_has_values,
    trend_metric,
)
from survey_core.report.font import use_font
from survey_core.report.model import (
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
from survey_core.report.workbook import report_workbook

pytestmark = pytest.mark.unit

# The font the report function ships (functions/report/Makefile) and names at import.
FONT = Path(__file__).resolve().parents[2] / "functions" / "report" / "fonts" / "DejaVuSans.ttf"
use_font(FONT)

EVIL_FORMULA = '=HYPERLINK("http://evil")'
EVIL_MARKUP = "<script>alert(1)</script>"


def point(label: str, value: float | None, n: int, half: float = 8.0) -> TrendPoint:
    """A trend point with an interval value -+ half (or none without a value)."""
    if value is None:
        return TrendPoint(label, Estimate.withheld(n))
    return TrendPoint(label, Estimate(value, value - half, value + half, n))


def report() -> ReportData:
    nps = MetricBlock(
        survey_id="post-purchase",
        metric="nps",
        label="NPS",
        headline=Estimate(30.0, 14.1, 44.2, 100),
        change=ChangeNote(difference=12.0, verdict="up", p_value=0.03),
        shares={
            "promoters": Estimate(50.0, 40.4, 59.6, 100),
            "passives": Estimate(30.0, 21.9, 39.6, 100),
            "detractors": Estimate(20.0, 13.3, 28.9, 100),
        },
    )
    csat = MetricBlock(
        survey_id="support",
        metric="csat",
        label="CSAT",
        headline=Estimate(82.5, 72.7, 89.3, 80),
        change=ChangeNote(difference=-1.5, verdict="no significant change", p_value=0.71),
        shares={"satisfied": Estimate(82.5, 72.7, 89.3, 80)},
        mean=Estimate(4.21, 4.0, 4.38, 80),
    )
    ces = MetricBlock(
        survey_id="support",
        metric="ces",
        label="CES",
        headline=Estimate(5.4, 5.05, 5.7, 60),
        change=ChangeNote(difference=None, verdict="not enough data", p_value=None),
        shares={"high effort": Estimate(15.0, 8.1, 26.1, 60)},
        mean=Estimate(5.4, 5.05, 5.7, 60),
    )
    trend = [
        point("2026-W42", 12.0, 80),
        point("2026-W43", 18.5, 90),
        point("2026-W44", None, 0),
        point("2026-W45", -4.0, 40, half=15.0),
        point("2026-W46", 22.0, 95),
        point("2026-W47", 30.0, 100),
    ]
    segments = [
        SegmentRow(
            "post-purchase", "nps", "businessArea", "webshop", Estimate(41.0, 24.0, 56.0, 60),
            "higher", 16.0, 0.02,
        ),
        SegmentRow(
            "post-purchase", "nps", "businessArea", "stores", Estimate(25.0, 3.0, 45.0, 32),
            "no clear difference", -3.0, 0.8,
        ),
        SegmentRow(
            "post-purchase", "nps", "businessArea", "b2b", Estimate.withheld(3),
            "too few answers",
        ),
        SegmentRow(
            "support", "csat", "agentId", "agent-7", Estimate(90.0, 78.6, 95.7, 50),
            "no clear difference", 8.0, 0.3,
        ),
        SegmentRow(
            "support", "csat", "agentId", "=agent-9", Estimate.withheld(2), "too few answers"
        ),
    ]  # fmt: skip
    return ReportData(
        title="Weekly customer feedback",
        group="Webshop managers",
        scope_label="everything",
        period_label="2026-11-16 - 2026-11-22",
        previous_label="2026-11-09 - 2026-11-15",
        language="en",
        blocks=[nps, csat, ces],
        trend_metric_label="NPS, post-purchase",
        trend=trend,
        segments=segments,
        channels=[
            ChannelRow("email", Rate(90, 400), 480),
            ChannelRow("sms", Rate(30, 150), 160),
        ],
        response_rate=Rate(120, 500),
        after_reminder=Rate(25, 120),
        follow_up=FollowUpSummary(tasks_created=4, tasks_done=3, sla_met=2, sla_missed=1),
        comments=[
            CommentRow("2026-11-20", "post-purchase", "nps", 9, "Fast delivery, thank you!"),
            CommentRow("2026-11-21", "support", "csat", 1, EVIL_FORMULA),
            CommentRow("2026-11-22", "post-purchase", "nps", 2, EVIL_MARKUP + " " + "long " * 60),
        ],
        names=NAMES,
        trend_metric="nps",
    )


# The catalogue's names for the ids above ("support" has none: a readable form is shown).
NAMES = DisplayNames(
    surveys={"post-purchase": {"fi": "Oston jälkeen", "sv": "Efter köpet", "en": "After purchase"}},
    values={"businessArea": {"webshop": {"fi": "Verkkokauppa", "sv": "Webbutik", "en": "Webshop"}}},
)
EN = Localizer("en", NAMES)


def empty_report() -> ReportData:
    return replace(
        report(),
        blocks=[],
        trend=[point("2026-W46", None, 0), point("2026-W47", None, 0)],
        segments=[],
        channels=[ChannelRow("email", Rate(0, 0), 0)],
        response_rate=Rate(0, 0),
        after_reminder=Rate(0, 0),
        follow_up=FollowUpSummary(0, 0, 0, 0),
        comments=[],
    )


# ---------------------------------------------------------------- the chart


def decode(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def distinct_colours(image: Image.Image) -> int:
    return len(image.convert("RGB").getcolors(maxcolors=1_000_000) or [])


def test_chart_is_a_png_of_the_asked_size_with_a_drawing_on_it() -> None:
    image = decode(trend_chart_png(report()))
    assert image.format == "PNG"
    assert image.size == (640, 300)
    assert distinct_colours(image) > 10
    # The line colour is there (a dark blue), not only grey text.
    rgb = image.convert("RGB")
    assert any(b > 150 and r < 90 for _, (r, g, b) in rgb.getcolors(maxcolors=1_000_000) or [])

    small = decode(trend_chart_png(report(), width=320, height=160))
    assert small.size == (320, 160)


def test_chart_is_deterministic_and_depends_on_the_data() -> None:
    data = report()
    assert trend_chart_png(data) == trend_chart_png(data)
    other = replace(data, trend=[*data.trend[:-1], point("2026-W47", 35.0, 100)])
    assert trend_chart_png(other) != trend_chart_png(data)


def test_the_chart_uses_the_datas_axis_not_the_whole_scale() -> None:
    data = report()
    assert data.trend_axis == (-30.0, 50.0)
    png = trend_chart_png(data)
    assert png == trend_chart_png(data, y_range=data.trend_axis)
    assert png != trend_chart_png(data, y_range=(-100.0, 100.0))
    # without a known metric there is no data axis: the chart falls back to the label's scale
    assert replace(data, trend_metric="").trend_axis is None


@pytest.mark.parametrize(
    "values",
    [
        [None],
        [None, 10.0],
        [10.0, None],
        [None, 5.0, None],
        [-100.0, 100.0, None, 0.0],
    ],
)
def test_gaps_do_not_break_the_chart(values: list[float | None]) -> None:
    trend = [point(f"2026-W{40 + i}", v, 0 if v is None else 10) for i, v in enumerate(values)]
    image = decode(trend_chart_png(replace(report(), trend=trend)))
    assert image.size == (640, 300)


def test_many_periods_and_out_of_range_values_still_draw() -> None:
    trend = [point(f"2026-11-{d:02d}", float(d * 3 - 40), 10) for d in range(1, 31)]
    decode(trend_chart_png(replace(report(), trend=trend)))
    wild = [point("a", 250.0, 1), point("b", -300.0, 1)]
    decode(trend_chart_png(replace(report(), trend=wild)))
    decode(trend_chart_png(report(), y_range=(0.0, 50.0)))
    # Letters the bundled font lacks are drawn without accents, not as boxes, and do not crash.
    finnish = replace(report(), language="fi", trend_metric_label="NPS, jälkiosto – å")
    decode(trend_chart_png(finnish))


def test_empty_report_gives_a_valid_png_saying_no_answers() -> None:
    data = empty_report()
    assert not trend_has_values(data)
    image = decode(trend_chart_png(data))
    assert image.size == (640, 300)
    assert distinct_colours(image) > 2  # axes and the note
    no_periods = decode(trend_chart_png(replace(data, trend=[])))
    assert no_periods.size == (640, 300)
    assert trend_has_values(report())


def test_the_metric_and_its_scale_come_from_the_data() -> None:
    assert trend_metric(report()) == "nps"
    ces_trend = replace(report(), trend_metric_label="CES, support")
    assert trend_metric(ces_trend) == "ces"
    ces_points = [point("2026-W46", 5.4, 60, 0.3), point("2026-W47", 5.0, 50, 0.3)]
    decode(trend_chart_png(replace(ces_trend, trend=ces_points)))
    # A label the code does not know: the blocks decide.
    only_csat = replace(report(), trend_metric_label="Tyytyväisyys", blocks=[report().blocks[1]])
    assert trend_metric(only_csat) == "csat"
    assert format_value(82.46, "csat") == "82%"
    assert format_value(-0.4, "nps") == "0"
    assert format_value(5.43, "ces") == "5.4"


def test_alt_text_names_every_point() -> None:
    data = report()
    text = trend_alt_text(data)
    assert text == (
        "NPS, post-purchase, by week: wk 42/2026 12, wk 43/2026 19, wk 44/2026 n/a, "
        "wk 45/2026 -4, wk 46/2026 22, wk 47/2026 30"
    )
    for point in data.trend:
        assert format_period_key("en", point.label) in text
    assert "\n" not in text


def test_alt_text_of_an_empty_trend_and_in_other_languages() -> None:
    assert trend_alt_text(empty_report()) == (
        "NPS, post-purchase, by week: no answers in these periods"
    )
    fi = replace(report(), language="fi")
    assert "viikoittain" in trend_alt_text(fi)
    assert "vk 44/2026 ei vastauksia" in trend_alt_text(fi)
    assert "vk 43/2026 19" in trend_alt_text(fi)  # rounded half away from zero, as Excel
    daily = replace(report(), trend=[point("2026-11-20", 10.0, 5), point("2026-11-21", 20.0, 5)])
    assert trend_alt_text(daily).startswith("NPS, post-purchase, by day: ")


# ---------------------------------------------------------------- the chart with a reference


def team(*values: float | None) -> Reference:
    """A reference series ("Team") on report()'s six weeks."""
    labels = [p.label for p in report().trend]
    return Reference(
        label="Team",
        own_label="You",
        points=[point(label, v, 0 if v is None else 200) for label, v in zip(labels, values)],
    )


def test_the_reference_sits_on_the_same_periods_at_its_values() -> None:
    data = report()
    layout = trend_chart_layout(data, reference=team(12.0, 30.0, 20.0, -4.0, 0.0, 41.0))
    own, theirs = layout.points, layout.reference_points
    # Then each reference point is on its period's x
    assert [p.label for p in theirs] == [p.label for p in own]
    assert [p.x for p in theirs] == [p.x for p in own]
    # and at its value's y on the own points' scale (12 and -4 are also own values)
    assert theirs[0].y == own[0].y and theirs[3].y == own[3].y
    (y1, v1), (y2, v2) = (own[0].y, 12.0), (own[5].y, 30.0)
    assert y1 is not None and y2 is not None
    for p, value in zip(theirs, [12.0, 30.0, 20.0, -4.0, 0.0, 41.0]):
        assert p.y == pytest.approx(y1 + (value - v1) * (y2 - y1) / (v2 - v1))
    # and without an interval, so no band
    assert all(p.low_y is None and p.high_y is None for p in theirs)


def test_the_reference_has_no_band_and_no_value_labels() -> None:
    # Given an axis that covers both series, so the own series is placed as without one
    data = report()
    plain = trend_chart_layout(data, y_range=(-100.0, 100.0))
    with_team = trend_chart_layout(
        data, y_range=(-100.0, 100.0), reference=team(61.0, 62.0, 63.0, 64.0, 65.0, 66.0)
    )
    # Then the points and bands are the own series' only
    assert with_team.points == plain.points
    assert with_team.bands == plain.bands
    # and no value label is a reference's value
    texts = {label.text for label in with_team.value_labels}
    assert texts and not texts & {"61", "62", "63", "64", "65", "66"}
    assert texts <= {"12", "19", "-4", "22", "30"}


def reference_pixels(image: Image.Image, x0: float, x1: float) -> int:
    """Pixels in the reference's amber between two xs of the final image."""
    rgb = image.convert("RGB")
    count = 0
    for x in range(math.ceil(x0), math.floor(x1)):
        for y in range(rgb.height):
            r, g, b = rgb.getpixel((x, y))  # type: ignore[misc]
            count += r - b > 60 and r > g + 20
    return count


def test_a_gap_breaks_the_reference_line() -> None:
    # Given a reference without a figure in its third week (and an own series with none)
    blank = [point(p.label, None, 0) for p in report().trend]
    data = replace(report(), trend=blank)
    reference = team(10.0, 20.0, None, 30.0, 40.0, 50.0)
    layout = trend_chart_layout(data, reference=reference)
    assert [p.y is None for p in layout.reference_points] == [False] * 2 + [True] + [False] * 3
    # Then the line is drawn between the first two weeks but not to or from the gap
    image = decode(trend_chart_png(data, reference=reference))
    xs = [p.x / 2 for p in layout.reference_points]  # drawn at twice the size
    marker = 6  # the square markers' half width, with a margin
    assert reference_pixels(image, xs[0] + marker, xs[1] - marker) > 20
    assert reference_pixels(image, xs[1] + marker, xs[3] - marker) == 0
    assert reference_pixels(image, xs[3] + marker, xs[4] - marker) > 20


def test_the_axis_covers_the_reference() -> None:
    # Given a team far above the own intervals (own axis -30..50)
    data = report()
    assert data.trend_axis == (-30.0, 50.0)
    reference = team(90.0, 85.0, 80.0, 70.0, 75.0, 95.0)
    for y_range in (None, (0.0, 50.0)):
        layout = trend_chart_layout(data, y_range=y_range, reference=reference)
        _, top, _, bottom = layout.plot
        # Then every reference point and every own interval is inside the plot
        for p in layout.reference_points:
            assert p.y is not None and top <= p.y <= bottom
        for p in layout.points:
            if p.y is not None:
                assert p.high_y is not None and p.low_y is not None
                assert top <= p.high_y <= p.low_y <= bottom
        # and the highest team value is nearer the top than the own axis's top would put it
        [highest] = [p for p in layout.reference_points if p.label == "2026-W47"]
        assert highest.y is not None and highest.y < top + (bottom - top) * 0.2
    # and a team below the scale's range is covered too
    low = trend_chart_layout(data, reference=team(-90.0, -80.0, None, -70.0, -60.0, -50.0))
    _, top, _, bottom = low.plot
    assert all(p.y is None or top <= p.y <= bottom for p in low.reference_points)


def test_the_reference_colour_passes_3_to_1_on_white() -> None:
    def luminance(rgb: tuple[int, int, int]) -> float:
        def channel(c: int) -> float:
            v = c / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert 1.05 / (luminance(_REFERENCE) + 0.05) >= 3.0


@pytest.mark.parametrize("width", [640, 320])
@pytest.mark.parametrize(
    ("title", "own", "theirs"),
    [
        ("NPS, post-purchase", "You", "Team"),
        ("NPS, Oston jälkeen", "Sinä", "Tiimi"),
        ("NPS, Oston jälkeen, verkkokauppa ja myymälät yhteensä", "Sinä", "Tiimi"),
        ("CSAT", "Sinun tuloksesi tällä jaksolla", "Koko tiimin tulos keskimäärin tällä jaksolla"),
    ],
)
def test_the_legend_collides_with_nothing(width: int, title: str, own: str, theirs: str) -> None:
    data = replace(report(), trend_metric_label=title)
    reference = replace(team(40.0, 45.0, 50.0, None, 48.0, 50.0), own_label=own)
    reference = replace(reference, label=theirs)
    layout = trend_chart_layout(data, width=width, reference=reference)
    # Then the legend has the own line's entry, then the reference's
    assert len(layout.legend) == 2
    assert layout.legend[0].text.rstrip("…") in own
    assert layout.legend[1].text.rstrip("…") in theirs
    assert layout.title is not None
    # and no legend entry touches another, the title, the plot, or a label
    boxes = [entry.box for entry in layout.legend]
    assert not overlaps(boxes[0], boxes[1])
    left, top, right, bottom = layout.plot
    plot = (left, top - 10 * 2, right, bottom)  # value labels may reach 10 px above the plot
    others = [layout.title.box, plot] + [t.box for t in layout.value_labels + layout.period_labels]
    assert not [(a, b) for a in boxes for b in others if overlaps(a, b)]
    # and everything is inside the image (drawn at twice its size)
    for box in [*boxes, layout.title.box]:
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= width * 2


def test_without_a_reference_nothing_changes() -> None:
    data = report()
    png = trend_chart_png(data)
    assert trend_chart_png(data, reference=None) == png
    assert trend_chart_png(data, width=320, height=160, reference=None) == trend_chart_png(
        data, width=320, height=160
    )
    assert trend_chart_png(empty_report(), reference=None) == trend_chart_png(empty_report())
    layout = trend_chart_layout(data, reference=None)
    assert layout.reference_points == [] and layout.legend == []
    assert trend_alt_text(data, None) == trend_alt_text(data)
    # and a reference does change the image
    assert trend_chart_png(data, reference=team(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)) != png


@pytest.mark.parametrize(
    "labels",
    [
        ["2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46"],  # one missing
        ["2026-W43", "2026-W42", "2026-W44", "2026-W45", "2026-W46", "2026-W47"],  # reordered
        ["2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W48"],  # another
        [],
    ],
)
def test_a_reference_on_other_periods_is_refused(labels: list[str]) -> None:
    reference = Reference(
        label="Team", own_label="You", points=[point(label, 10.0, 50) for label in labels]
    )
    with pytest.raises(ValueError, match="periods"):
        trend_chart_png(report(), reference=reference)
    with pytest.raises(ValueError, match="periods"):
        trend_chart_layout(report(), reference=reference)
    with pytest.raises(ValueError, match="periods"):
        trend_alt_text(report(), reference)


def test_alt_text_names_the_references_points() -> None:
    reference = team(25.0, 28.0, 26.0, None, 45.0, 60.4)
    assert trend_alt_text(report(), reference) == (
        "NPS, post-purchase, by week: wk 42/2026 12, wk 43/2026 19, wk 44/2026 n/a, "
        "wk 45/2026 -4, wk 46/2026 22, wk 47/2026 30; "
        "Team: wk 42/2026 25, wk 43/2026 28, wk 44/2026 26, wk 45/2026 n/a, "
        "wk 46/2026 45, wk 47/2026 60"
    )
    fi = replace(report(), language="fi", trend_metric_label="NPS, Oston jälkeen")
    finnish = replace(reference, label="Tiimi", own_label="Sinä")
    assert trend_alt_text(fi, finnish) == (
        "NPS, Oston jälkeen, viikoittain: vk 42/2026 12, vk 43/2026 19, vk 44/2026 ei "
        "vastauksia, vk 45/2026 -4, vk 46/2026 22, vk 47/2026 30; Tiimi: vk 42/2026 25, "
        "vk 43/2026 28, vk 44/2026 26, vk 45/2026 ei vastauksia, vk 46/2026 45, vk 47/2026 60"
    )
    # a reference without any figure says so, in the chart's language
    blank = team(None, None, None, None, None, None)
    assert trend_alt_text(fi, blank).endswith(f"; Team: {message('fi', 'chart_no_answers')}")


# ---------------------------------------------------------------- the workbook


def read(xlsx: bytes) -> Any:
    return load_workbook(io.BytesIO(xlsx))


def rows(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(cell for cell in row) for row in ws.iter_rows(values_only=True)]


def find_row(ws: Any, first: str) -> int:
    """1-based index of the row whose first cell is `first`."""
    for index, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if row and row[0] == first:
            return index
    raise AssertionError(f"no row starting with {first!r} on {ws.title}")


def header_map(ws: Any, row: int) -> dict[str, int]:
    return {cell.value: cell.column for cell in ws[row] if cell.value is not None}


def in_sheet(metric: str, value: float | None) -> Any:
    """A report figure as the workbook holds it: CSAT (a percentage) as its fraction."""
    if value is None:
        return None
    return pytest.approx(value / 100) if metric == "csat" else value


def fraction(percent: float | None) -> Any:
    return None if percent is None else pytest.approx(percent / 100)


def test_workbook_has_the_four_sheets() -> None:
    wb = read(report_workbook(report()))
    assert wb.sheetnames == ["Summary", "Trend", "Segments", "Comments"]


def test_summary_carries_the_reports_numbers() -> None:
    data = report()
    ws = read(report_workbook(data))["Summary"]
    assert ws["A1"].value == data.title
    values = rows(ws)
    assert ("Report for", data.group) in [r[:2] for r in values]
    assert ("Scope", data.scope_label) in [r[:2] for r in values]
    assert ("Period", "16–22 Nov 2026") in [r[:2] for r in values]
    assert ("Compared with", "9–15 Nov 2026") in [r[:2] for r in values]

    head = find_row(ws, "Survey")
    columns = header_map(ws, head)
    assert ws.freeze_panes == f"A{head + 1}"
    for offset, block in enumerate(data.blocks, start=1):
        r = head + offset

        def cell(name: str, r: int = r) -> Any:
            return ws.cell(row=r, column=columns[name])

        assert cell("Survey").value == EN.survey(block.survey_id)
        assert cell("Metric").value == block.label
        assert cell("Score").value == in_sheet(block.metric, block.headline.value)
        assert cell("95 % low").value == in_sheet(block.metric, block.headline.low)
        assert cell("95 % high").value == in_sheet(block.metric, block.headline.high)
        assert cell("n").value == block.headline.n
        for key, share in block.shares.items():
            assert cell(f"{EN.share(key)} %").value == fraction(share.value)
            assert cell(f"{EN.share(key)} %").number_format == "0.0%"
        assert cell("Mean").value == (block.mean.value if block.mean else None)
        assert cell("Mean, 95 % low").value == (block.mean.low if block.mean else None)
        assert cell("Change").value == block.change.difference
        assert cell("Verdict").value == EN.verdict(block.change.verdict)
        assert cell("p").value == block.change.p_value
        assert isinstance(cell("Score").value, int | float)
        assert cell("Score").data_type == "n"
        assert cell("Score").number_format != "General"
    assert [ws.cell(row=head + i, column=columns["Survey"]).value for i in (1, 2)] == [
        "After purchase",  # the catalogue's name
        "Support",  # no name: a readable form of the id
    ]
    assert ws.cell(row=head + 1, column=columns["Verdict"]).value == "up (significant)"
    # Shares a block does not have stay empty.
    assert ws.cell(row=head + 1, column=columns["Satisfied (4-5) %"]).value is None
    assert ws.cell(row=head + 2, column=columns["Promoters %"]).value is None
    # The CSAT headline shows as a percentage while holding the report's number.
    assert ws.cell(row=head + 2, column=columns["Score"]).number_format == "0.0%"

    # Each rate beside its own numerator and denominator; the messages after it
    channels = find_row(ws, "Channel")
    assert rows(ws)[channels - 1][:5] == (
        "Channel", "Answers", "Invitations", "Response rate", "Messages sent"
    )  # fmt: skip
    assert rows(ws)[channels][:5] == ("All channels", 120, 500, pytest.approx(0.24), 640)
    for offset, channel in enumerate(data.channels, start=2):
        assert rows(ws)[channels - 1 + offset][:5] == (
            EN.channel(channel.channel),
            channel.rate.numerator,
            channel.rate.denominator,
            fraction(channel.rate.pct),
            channel.messages,
        )
    reminder = find_row(ws, "Answers after a reminder")
    assert rows(ws)[reminder - 1][1:4] == (25, 120, pytest.approx(25 / 120))
    follow = find_row(ws, "Tasks created")
    assert rows(ws)[follow - 1][:5] == (
        "Tasks created",
        "Done",
        "Within the SLA",
        "SLA missed",
        "SLA met %",
    )
    fu = data.follow_up
    assert rows(ws)[follow][:5] == (4, 3, 2, 1, fraction(fu.sla_met_pct))
    assert fu.sla_met_pct == pytest.approx(200 / 3)
    assert ws.column_dimensions["A"].width > 10


def test_summary_carries_the_follow_up_outcomes_and_time_to_agent() -> None:
    # Given a report whose callbacks: 3 ended (2 completed, 1 not reached), 1 open past due
    follow_up = FollowUpSummary(
        tasks_created=4, tasks_done=3, sla_met=2, sla_missed=2, completed=2, not_reached=1,
        overdue=1, reached=2, to_agent_seconds=2 * 5400,
    )  # fmt: skip
    ws = read(report_workbook(replace(report(), follow_up=follow_up)))["Summary"]
    # Then the workbook has every figure the email shows, as numbers
    follow = find_row(ws, "Tasks created")
    assert rows(ws)[follow - 1][5:12] == (
        "Completed", "Not reached", "Expired", "Open", "Open past due", "Reached an agent",
        "Mean hours to agent",
    )  # fmt: skip
    assert rows(ws)[follow][:12] == (4, 3, 2, 2, 0.5, 2, 1, 0, 1, 1, 2, 1.5)


def test_trend_sheet_and_its_line_chart() -> None:
    data = report()
    ws = read(report_workbook(data))["Trend"]
    assert rows(ws)[0][:3] == ("Period", data.trend_metric_label, "n")
    body = [r[:3] for r in rows(ws)[1 : 1 + len(data.trend)]]
    assert body == [(EN.period(p.label), p.value, p.n) for p in data.trend]
    assert body[0][0] == "wk 42/2026"
    assert ws.freeze_panes == "A2"
    assert len(ws._charts) == 1
    assert ws._charts[0].tagname == "lineChart"


def test_segments_sheet_and_its_bar_charts() -> None:
    data = report()
    ws = read(report_workbook(data))["Segments"]
    header = rows(ws)[0]
    assert header[:11] == (
        "Survey", "Metric", "Breakdown", "Segment", "Score", "95 % low", "95 % high", "n",
        "Against the rest", "Difference to the rest", "p (Holm)",
    )  # fmt: skip
    body = {(r[0], r[2], r[3]): r for r in rows(ws)[1:] if r[0] is not None}
    assert len(body) == len(data.segments)
    standings = {
        "higher": "higher than the rest",
        "lower": "lower than the rest",
        "no clear difference": "no clear difference",
        "too few answers": "too few answers",
    }
    for seg in data.segments:
        names = (EN.survey(seg.survey_id), EN.attribute(seg.attribute))
        r = body[(*names, EN.value(seg.attribute, seg.value))]
        h = seg.headline
        assert r[4:8] == (*(in_sheet(seg.metric, v) for v in (h.value, h.low, h.high)), h.n)
        assert r[8:11] == (standings[seg.standing], seg.difference, seg.p_value)
    # Names, not ids: the catalogue's, a readable form, or a code as it is
    assert ("After purchase", "Business area", "Webshop") in body
    assert ("After purchase", "Business area", "Stores") in body
    assert ("Support", "Agent", "agent-7") in body
    # Too few answers: no score, no interval, no comparison; "=agent-9" stays text.
    flagged = body[("Support", "Agent", "=agent-9")]
    assert flagged[4:11] == (None, None, None, 2, "too few answers", None, None)
    # One bar chart per survey x metric x attribute that has rows with a figure.
    assert len(ws._charts) == 2
    assert {chart.tagname for chart in ws._charts} == {"barChart"}


def test_comments_are_literal_text_never_formulas() -> None:
    data = report()
    ws = read(report_workbook(data))["Comments"]
    assert rows(ws)[0][:5] == ("Date", "Survey", "Metric", "Score", "Comment")
    for offset, comment in enumerate(data.comments, start=2):
        text = ws.cell(row=offset, column=5)
        assert text.value == comment.text
        assert text.data_type == "s"
        assert text.alignment.wrap_text
        assert ws.cell(row=offset, column=1).value == datetime.combine(
            date.fromisoformat(comment.answered_on), datetime.min.time()
        )
        assert ws.cell(row=offset, column=4).value == comment.score
    evil = ws.cell(row=3, column=5)
    assert evil.value == EVIL_FORMULA
    assert evil.data_type == "s"
    # Nowhere in the file is there a formula.
    with zipfile.ZipFile(io.BytesIO(report_workbook(data))) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


@pytest.mark.parametrize(
    "text", ["+SUM(1,2)", "-2+3", "@cmd", "=1+1", "https://example.com/x", "42", "_x0041_", "ä 😀"]
)
def test_texts_that_look_like_formulas_numbers_or_links_stay_text(text: str) -> None:
    data = replace(
        report(),
        title=text,
        trend_metric_label=text,
        comments=[CommentRow("2026-11-20", "support", "csat", 3, text)],
        segments=[replace(report().segments[0], value=text)],
    )
    wb = read(report_workbook(data))
    for cell in (
        wb["Summary"]["A1"],
        wb["Trend"]["B1"],
        wb["Comments"]["E2"],
        wb["Segments"]["D2"],
    ):
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.hyperlink is None


def test_segments_with_only_small_samples_get_no_chart() -> None:
    flagged = [s for s in report().segments if s.headline.too_few]
    ws = read(report_workbook(replace(report(), segments=flagged)))["Segments"]
    assert ws._charts == []
    assert [r[4] for r in rows(ws)[1:3]] == [None, None]


def test_a_withheld_figure_is_empty_cells_and_a_note_never_a_number() -> None:
    # Given a block whose headline had too few answers
    block = replace(
        report().blocks[0],
        headline=Estimate.withheld(3),
        shares={k: Estimate.withheld(3) for k in report().blocks[0].shares},
        change=ChangeNote(None, "not enough data", None),
    )
    ws = read(report_workbook(replace(report(), blocks=[block])))["Summary"]
    # Then its row has n and the note, and no figure at all
    head = find_row(ws, "Survey")
    columns = header_map(ws, head)
    row = {name: ws.cell(row=head + 1, column=col).value for name, col in columns.items()}
    assert row["n"] == 3
    assert row["Note"] == "too few answers"
    assert [row[k] for k in ("Score", "95 % low", "95 % high", "Promoters %", "Change")] == [
        None
    ] * 5


def test_the_trend_sheet_carries_each_points_interval_and_the_data_axis() -> None:
    data = report()
    ws = read(report_workbook(data))["Trend"]
    assert rows(ws)[0][:5] == ("Period", data.trend_metric_label, "n", "95 % low", "95 % high")
    body = [r[:5] for r in rows(ws)[1 : 1 + len(data.trend)]]
    assert body == [(EN.period(p.label), p.value, p.n, p.low, p.high) for p in data.trend]
    # the empty week: no value and no interval
    assert body[2] == ("wk 44/2026", None, 0, None, None)
    # the chart's value axis is the data's own range (-19..38 padded, on 10s), not -100..100
    assert data.trend_axis == (-30.0, 50.0)
    axis = ws._charts[0].y_axis.scaling
    assert (axis.min, axis.max) == data.trend_axis


def test_workbook_is_deterministic() -> None:
    data = report()
    assert report_workbook(data) == report_workbook(data)
    assert read(report_workbook(data)).properties.created == datetime(2026, 11, 22)


def test_empty_report_says_so_and_has_no_charts() -> None:
    data = empty_report()
    wb = read(report_workbook(data))
    assert wb.sheetnames == ["Summary", "Trend", "Segments", "Comments"]
    summary = wb["Summary"]
    texts = [c for r in rows(summary) for c in r if isinstance(c, str)]
    assert "No responses this period." in texts
    assert "Survey" not in texts  # no empty metric table
    for ws in wb.worksheets:
        assert ws._charts == [], ws.title
    # The periods are still listed, without values.
    trend = rows(wb["Trend"])
    assert [r[:3] for r in trend[1:3]] == [("wk 46/2026", None, 0), ("wk 47/2026", None, 0)]
    # Nothing at all: still a workbook.
    bare = replace(data, trend=[], channels=[])
    wb = read(report_workbook(bare))
    assert all(ws._charts == [] for ws in wb.worksheets)


def test_the_chart_draws_finnish_and_swedish_letters() -> None:
    # The module this file gave the font at import: an integration test that loads a function
    # may have left a copy of survey_core in sys.modules that was never given one.
    assert (
        _drawable("Kehitys: jälkiosto, påminnelse, Öljy") == "Kehitys: jälkiosto, påminnelse, Öljy"
    )


def test_the_finnish_workbook_reads_back_in_finnish_with_real_formats() -> None:
    # Given the sample report in Finnish
    from tools.preview_report import sample_report

    data = sample_report("fi")
    # When its workbook is read back with openpyxl
    book = read(report_workbook(data))
    # Then sheets, headers and verdicts are Finnish
    assert book.sheetnames == ["Yhteenveto", "Kehitys", "Ryhmät", "Kommentit"]
    summary = book["Yhteenveto"]
    head = find_row(summary, "Kysely")
    columns = header_map(summary, head)
    assert {"Kysely", "Mittari", "95 %:n alaraja", "Muutos"} <= columns.keys()
    verdicts = {summary.cell(row=head + i + 1, column=columns["Tulkinta"]).value
                for i in range(len(data.blocks))}  # fmt: skip
    fi = Localizer("fi", data.names)
    assert verdicts <= {fi.verdict(b.change.verdict) for b in data.blocks}
    assert not verdicts & {"up", "down", "no significant change", "not enough data"}
    # percentages are fractions in a real percent format, never a literal "%" in the format
    channels = find_row(summary, "Kanava")
    rate = summary.cell(row=channels + 1, column=4)
    assert rate.data_type == "n" and rate.number_format == "0.0%"
    assert rate.value == pytest.approx(data.response_rate.pct / 100)
    formats = {c.number_format for r in summary.iter_rows() for c in r if c.data_type == "n"}
    assert not any('"%"' in f for f in formats), formats
    # every data sheet has its header frozen and an autofilter over its table
    for ws in book.worksheets:
        assert ws.freeze_panes is not None, ws.title
        assert ws.auto_filter.ref, ws.title
    assert book["Kehitys"].auto_filter.ref == f"A1:E{len(data.trend) + 1}"
    assert summary.auto_filter.ref.startswith(f"A{head}:")


def test_the_charts_carry_the_intervals_as_error_bars() -> None:
    # Given the report's workbook
    book = read(report_workbook(report()))
    # Then the trend's line and each segment bar chart have custom error bars
    [trend] = book["Trend"]._charts
    [series] = trend.series
    assert series.errBars is not None and series.errBars.errValType == "cust"
    for chart in book["Segments"]._charts:
        assert chart.series[0].errBars is not None


def test_an_empty_week_is_a_gap_not_a_value() -> None:
    # Given a trend whose middle week has no answers
    trend = [point("2026-W45", 20.0, 40), point("2026-W46", None, 0), point("2026-W47", 30.0, 50)]
    layout = trend_chart_layout(replace(report(), trend=trend))
    # Then nothing is plotted for it: no y, no interval, no value label, and the band breaks
    gap = layout.points[1]
    assert (gap.y, gap.low_y, gap.high_y) == (None, None, None)
    assert [p.y is None for p in layout.points] == [False, True, False]
    assert len(layout.bands) == 2
    assert all(gap.x not in [x for x, _ in band] for band in layout.bands)
    assert [label.text for label in layout.value_labels] == ["20", "30"]
    # and its period is still named on the axis
    assert len(layout.period_labels) == 3


def test_the_band_is_each_points_interval() -> None:
    data = report()
    layout = trend_chart_layout(data)
    with_figure = [p for p in layout.points if p.y is not None]
    # One band over each run of points with an interval, drawn from high to low
    outline = [xy for band in layout.bands for xy in band]
    for p in with_figure:
        assert p.high_y is not None and p.low_y is not None and p.high_y < p.y < p.low_y
        assert (p.x, p.high_y) in outline and (p.x, p.low_y) in outline


@pytest.mark.parametrize("count", [3, 8, 13, 26, 53])
def test_labels_never_collide_and_are_readable_on_a_phone(count: int) -> None:
    # Given trends from a few to a year of weeks, zig-zagging across zero
    trend = [
        point(f"2026-W{(i % 52) + 1:02d}", (-1) ** i * 4.0 + (i % 5) - 2, 30, half=6.0)
        for i in range(count)
    ]
    layout = trend_chart_layout(replace(report(), trend=trend))
    # Then no two texts share a pixel
    boxes = [t.box for t in layout.period_labels + layout.value_labels]
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlaps(a, b)]
    # and the newest period is always named and valued
    assert layout.value_labels and layout.period_labels
    # and the text is at least 12 px when the 640 px image shows 340 px wide on a phone
    assert layout.font_size * 340 / 640 >= 12
