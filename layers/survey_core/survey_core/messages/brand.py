"""A company's look on its survey pages: a colour and a logo, from the survey catalogue
(catalogue.yaml `brand`).

The colour fills the buttons and the chosen score, under white text, so the catalogue's check
refuses one with less than 4.5:1 contrast against white (WCAG AA for text). The logo is an SVG
file beside catalogue.yaml (it ships in the layer with it): pages embed it as a data: URI, the
only kind of image their Content-Security-Policy allows besides their own origin, so a page
still loads nothing from elsewhere. Emails carry the colour only.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from msgspec import Struct

DEFAULT_COLOUR = "#0b5394"
MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 32_000


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def contrast_with_white(colour: str) -> float:
    """WCAG's contrast ratio of a #rrggbb colour against white (1 to 21)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)
    return 1.05 / (luminance + 0.05)


@cache
def _svg_data_uri(path: Path) -> str:
    data = path.read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


class Brand(Struct, frozen=True):
    colour: str = DEFAULT_COLOUR
    logo: Path | None = None  # an SVG file

    @property
    def logo_uri(self) -> str | None:
        """The logo as a data: URI for an <img>, or None without a logo."""
        return _svg_data_uri(self.logo) if self.logo is not None else None


def brand_problems(colour: str, logo: Path | None, where: str) -> list[str]:
    """What is wrong with a catalogue's brand, as "where: problem" lines."""
    found = []
    if contrast_with_white(colour) < MIN_CONTRAST:
        ratio = contrast_with_white(colour)
        found.append(
            f"{where}.colour: {colour} has {ratio:.1f}:1 contrast with white text; "
            f"at least {MIN_CONTRAST}:1 is needed (choose a darker colour)"
        )
    if logo is not None:
        if not logo.is_file():
            found.append(f"{where}.logo: no file {logo.name} beside the catalogue")
        elif logo.stat().st_size > MAX_LOGO_BYTES:
            found.append(f"{where}.logo: {logo.name} is over {MAX_LOGO_BYTES} bytes")
        elif b"<script" in logo.read_bytes().lower():
            found.append(f"{where}.logo: {logo.name} has a script in it")
    return found
