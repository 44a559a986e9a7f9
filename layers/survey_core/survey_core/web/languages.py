"""The language a browser asks for (the Accept-Language header, RFC 9110 section 12.5.4), for
the pages that know no customer: an unknown link, or a request that failed before its survey
was read. A page that knows its customer is in the customer's language instead."""

from __future__ import annotations

from collections.abc import Collection

# A header longer than this is not a browser's; its tail is not read.
MAX_HEADER_LENGTH = 1000


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


def preferred_language(header: str | None, supported: Collection[str], default: str) -> str:
    """The supported language the header ranks highest ("sv-FI,sv;q=0.9,en;q=0.8" -> "sv"),
    by its primary subtag; `default` when it names none (or is absent, or says only "*")."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "")[:MAX_HEADER_LENGTH].split(",")):
        tag, *parameters = item.split(";")
        primary = tag.strip().replace("_", "-").split("-")[0].lower()
        quality = _quality(parameters)
        if primary in supported and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default
