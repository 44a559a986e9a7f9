"""The trend chart's TrueType font: the functions that draw the chart ship DejaVu Sans (free
license: functions/report/fonts/DejaVuSans.LICENSE) and name it here at init. Apart from the
chart (chart.py), so naming the font does not load the chart's code: the report function
draws a chart only in the runs that send a report."""

from __future__ import annotations

from pathlib import Path

# DejaVu Sans draws Finnish and Swedish letters; Pillow's own default font covers ASCII only.
FONT_NAME = "DejaVuSans.ttf"
_font: list[Path] = []  # the font use_font() named


def use_font(path: Path) -> None:
    """Draw with this TrueType font (the function's copy of DejaVu Sans)."""
    if not path.is_file():
        raise FileNotFoundError(f"no font at {path}")
    _font[:] = [path]


def chosen_font() -> Path | None:
    """The font use_font() named; None: Pillow's default."""
    return _font[0] if _font else None
