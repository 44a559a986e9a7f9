"""Numbers, percentages, dates and periods as each language writes them (Babel, CLDR data):

    format_number("fi", 3010)           "3 010"       (a no-break space groups thousands)
    format_number("fi", 82.46, 1)       "82,5"
    format_percent("fi", 82.5)          "82,5 %"      (sv the same; en "82.5%")
    format_signed("sv", -1.5)           "-1,5"        (+ for a rise; 0 without a sign)
    format_date("fi", date(2026,11,16)) "16.11.2026"  (sv "16 nov. 2026", en "16 Nov 2026")
    format_period("fi", first, last)    "16.–22.11.2026"

English is written the British way (en_GB: "16 Nov 2026", "82.5%"), not the US one: the
readers are in Europe. Values are rounded half away from zero, as Excel rounds the same number
in the report's workbook, so the email and the sheet agree.

Babel is imported on first use only, and only the report formats numbers and dates: Babel
ships with the report function (functions/report/requirements.in), not in the shared layer,
its locale data pruned at build to the locales below and their parents
(functions/report/prune_babel.py). The message catalogues need no Babel at run time
(catalogues.py: the build compiles them; the standard library's gettext reads them).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TYPE_CHECKING

from .i18n import resolve_language, text

if TYPE_CHECKING:
    from babel import Locale
    from babel.numbers import NumberPattern

# The CLDR locale each supported language is formatted in.
BABEL_LOCALES = {"fi": "fi", "sv": "sv", "en": "en_GB"}
# A date range per language: Finnish writes it in numbers ("16.–22.11.2026"), Swedish and
# English with the month's name ("16–22 nov. 2026", "16–22 Nov 2026").
_PERIOD_SKELETONS = {"fi": "yMd", "sv": "yMMMd", "en": "yMMMd"}
# The ISO keys the report's data uses for periods (report/content.py, report/config.py).
_WEEK_KEY = re.compile(r"(\d{4})-W(\d{2})")
_DAY_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_KEY = re.compile(r"(\d{4})-(\d{2})")
_RANGE_KEY = re.compile(r"(\d{4}-\d{2}-\d{2})\s*[–-]\s*(\d{4}-\d{2}-\d{2})")


@cache
def babel_locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(BABEL_LOCALES[resolve_language(language)])


@cache
def _pattern(language: str, kind: str, digits: int) -> NumberPattern:
    """The locale's decimal or percent pattern with exactly `digits` decimals."""
    from babel.numbers import parse_pattern

    locale = babel_locale(language)
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    pattern = copy.copy(parse_pattern(formats[None].pattern))
    pattern.frac_prec = (digits, digits)
    return pattern


def _rounded(value: float, digits: int) -> Decimal:
    """Rounded half away from zero (as Excel does); -0 becomes 0."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return exact if exact else abs(exact)


def format_number(language: str, value: float, digits: int = 0) -> str:
    """A number with `digits` decimals, grouped as the language does ("3 010,5", "3,010.5")."""
    pattern = _pattern(language, "decimal", digits)
    return pattern.apply(_rounded(value, digits), babel_locale(language))


def format_percent(language: str, value: float, digits: int = 1) -> str:
    """A percentage given in percent (82.5, as the report keeps it): "82,5 %" / "82.5%"."""
    shown = _rounded(value, digits) / 100
    return _pattern(language, "percent", digits).apply(shown, babel_locale(language))


def format_signed(language: str, value: float, digits: int = 1) -> str:
    """A change: "+12,0", "-1,5", and "0,0" for no change (after rounding)."""
    rounded = _rounded(value, digits)
    number = format_number(language, float(abs(rounded)), digits)
    if rounded > 0:
        return f"+{number}"
    return f"-{number}" if rounded < 0 else number


def format_score_interval(language: str, low: float, high: float, digits: int = 1) -> str:
    """An interval "20,1–39,9"; spaced ("-12 – 30") when a bound is negative, so the dash
    cannot be read as a minus sign."""
    first, last = format_number(language, low, digits), format_number(language, high, digits)
    if _rounded(low, digits) < 0 or _rounded(high, digits) < 0:
        return f"{first} – {last}"
    return f"{first}–{last}"


def format_hours(language: str, hours: float) -> str:
    """A duration in hours, one decimal: "3,0 h"."""
    return text(language, "report_hours", hours=format_number(language, hours, 1))


def format_date(language: str, day: date | str) -> str:
    """A day (a date or its ISO text) as the language writes it; a text that is no ISO date is
    returned as it is."""
    from babel.dates import format_date as babel_format_date

    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            return str(day)
    return str(babel_format_date(day, "medium", locale=babel_locale(language)))


def format_moment(language: str, moment: datetime, zone: tzinfo) -> str:
    """A moment in `zone`'s local time, day and time as the language writes them short
    ("6.12.2026 klo 14.00", "12/6/26, 2:00 PM")."""
    from babel.dates import format_datetime

    local = moment.astimezone(zone).replace(tzinfo=None)  # babel would convert an aware one
    return str(format_datetime(local, "short", locale=babel_locale(language)))


def format_period(language: str, first: date, last: date) -> str:
    """A span of days: "16.–22.11.2026", "16–22 nov. 2026", "16–22 Nov 2026"; one day as a date."""
    from babel.dates import format_interval

    if first == last:
        return format_date(language, first)
    skeleton = _PERIOD_SKELETONS[resolve_language(language)]
    return format_interval(first, last, skeleton, locale=babel_locale(language))


def format_period_key(language: str, key: str, short: bool = False) -> str:
    """A period the report's data names by its ISO key, as the language writes it:
    "2026-W47" -> "vk 47/2026" (short: "vk 47"), "2026-11-16" -> "16.11.2026",
    "2026-11" -> "marraskuu 2026", "2026-11-16 – 2026-11-22" -> "16.–22.11.2026".
    Any other text is returned as it is."""
    from babel.dates import format_skeleton

    if week := _WEEK_KEY.fullmatch(key):
        name = "period_week_short" if short else "period_week"
        return text(language, name, week=int(week[2]), year=week[1])
    try:
        if _DAY_KEY.fullmatch(key):
            day = date.fromisoformat(key)
            if short:
                return format_skeleton("MMMd", day, locale=babel_locale(language))
            return format_date(language, day)
        if month := _MONTH_KEY.fullmatch(key):
            first = date(int(month[1]), int(month[2]), 1)
            skeleton = "MMM" if short else "yMMMM"
            return format_skeleton(skeleton, first, locale=babel_locale(language))
        if span := _RANGE_KEY.fullmatch(key.strip()):
            first, last = date.fromisoformat(span[1]), date.fromisoformat(span[2])
            return format_period(language, first, last)
    except ValueError:
        return key
    return key
