"""User-visible texts in Finnish, Swedish and English: a gettext lookup by message id.

The texts live in the message catalogues (locale/<language>/LC_MESSAGES/surveys.po, compiled
to .mo at build: catalogues.py); every page, email, SMS and report asks for them here:

    text("fi", "subject", company="Example Oy")  ->  "Miten onnistuimme? ... - Example Oy"
    plural("fi", "report_overdue_tasks", 2)       ->  the form for 2, with {count} filled in

A message id a catalogue lacks falls back to English, and one English lacks too raises KeyError
(the tests make sure no language lacks one). Numbers, percentages and dates are formatted by
formatting.py; display names of surveys and segments come from names.py.
"""

from __future__ import annotations

import gettext
from functools import cache

from ..rules.scoring import SCALES
from . import catalogues

SUPPORTED_LANGUAGES = catalogues.LANGUAGES
DEFAULT_LANGUAGE = "en"
METRIC_SCALES = SCALES


def resolve_language(value: str | None) -> str:
    """'fi', 'FI', 'fi-FI', 'sv_SE' -> a supported language; anything else -> English."""
    if not value:
        return DEFAULT_LANGUAGE
    base = value.replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """A supported language's catalogue, falling back to English (loaded once per process)."""
    loaded = catalogues.load(language)
    if language == DEFAULT_LANGUAGE:
        loaded.add_fallback(catalogues.NoFallback())
    else:
        loaded.add_fallback(translations(DEFAULT_LANGUAGE))
    return loaded


def _fallbacks_last(language: str) -> gettext.GNUTranslations:
    return translations(resolve_language(language))


def text(language: str, key: str, **params: object) -> str:
    """The message `key` in `language` with its named placeholders filled in."""
    return _fallbacks_last(language).gettext(key).format(**params)


def plural(language: str, key: str, number: int, **params: object) -> str:
    """The plural message `key` in the form for `number`; {count} is filled in with the number
    as given (format it first, e.g. with formatting.format_number, and pass it as a param to
    show it otherwise)."""
    template = _fallbacks_last(language).ngettext(key, key, number)
    return template.format(**{"count": number, **params})
