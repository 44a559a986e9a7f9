"""Display names for what the data names by id: surveys, metrics, segment attributes and their
values, channels, a change's verdict, the report's shares.

Two homes, by who owns the name:

- names the code knows (metrics, the segment attributes of the event contracts, channels,
  verdicts, shares) are fixed texts: message ids in the .po catalogues, mapped here;
- names a company gives (its surveys, and the values of its segments: business areas,
  touchpoints, ...) live in its survey catalogue (catalogue.yaml `name` and `segments`), per
  language, and reach the renderers as DisplayNames.

A name that is missing falls back to a readable form of the id ("home-delivery" ->
"Home delivery"), never to a message id; `make check-catalogue` makes sure every survey has a
name and every report scope's value has one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from msgspec import Struct, field

from .i18n import resolve_language, text

# Names by language, e.g. {"fi": "Oston jälkeen", "sv": "Efter köpet", "en": "After purchase"}.
Names = Mapping[str, str]

METRIC_NAMES = {"nps": "metric_nps", "csat": "metric_csat", "ces": "metric_ces"}
ATTRIBUTE_NAMES = {
    "businessArea": "segment_business_area",
    "touchpoint": "segment_touchpoint",
    "interactionChannel": "segment_interaction_channel",
    "agentId": "segment_agent",
    "productId": "segment_product",
    "storeId": "segment_store",
}
CHANNEL_NAMES = {"email": "channel_email", "sms": "channel_sms"}
VERDICT_NAMES = {
    "up": "report_verdict_up",
    "down": "report_verdict_down",
    "no significant change": "report_verdict_no_change",
    "not enough data": "report_verdict_not_enough",
}
SHARE_NAMES = {
    "promoters": "report_promoters",
    "passives": "report_passives",
    "detractors": "report_detractors",
    "satisfied": "report_satisfied",
    "high effort": "report_high_effort",
}
# Attributes whose values are codes people know as they are (an agent's, a product's or a
# store's id): shown as written when the catalogue names them not. Other values (business
# areas, touchpoints, channels of contact) are slugs, shown in a readable form.
CODE_ATTRIBUTES = frozenset({"agentId", "productId", "storeId"})

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def readable(identifier: str) -> str:
    """An id as words: "post-purchase" -> "Post purchase", "businessArea" -> "Business area"."""
    words = _CAMEL.sub(" ", identifier).replace("-", " ").replace("_", " ").split()
    if not words:
        return identifier
    joined = " ".join(word.lower() if word[1:].islower() else word for word in words)
    return joined[0].upper() + joined[1:]


def _fixed(language: str, table: Mapping[str, str], key: str) -> str:
    message = table.get(key)
    return text(language, message) if message else readable(key)


def metric_name(language: str, metric: str) -> str:
    return _fixed(language, METRIC_NAMES, metric)


def attribute_name(language: str, attribute: str) -> str:
    return _fixed(language, ATTRIBUTE_NAMES, attribute)


def channel_name(language: str, channel: str) -> str:
    return _fixed(language, CHANNEL_NAMES, channel)


def verdict_name(language: str, verdict: str) -> str:
    return _fixed(language, VERDICT_NAMES, verdict)


def share_name(language: str, share: str) -> str:
    return _fixed(language, SHARE_NAMES, share)


def _pick(names: Names | None, language: str) -> str | None:
    if not names:
        return None
    return names.get(resolve_language(language)) or names.get("en")


class DisplayNames(Struct, frozen=True):
    """The names a survey catalogue gives: surveys by id, segment values by attribute and value,
    each per language."""

    surveys: Mapping[str, Names] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Names]] = field(default_factory=dict)

    def survey(self, language: str, survey_id: str) -> str:
        return _pick(self.surveys.get(survey_id), language) or readable(survey_id)

    def value(self, language: str, attribute: str, value: str) -> str:
        """A segment value's name; without one, a slug in a readable form ("home-delivery" ->
        "Home delivery") and any other value (a code, a name) as written."""
        named = _pick(self.values.get(attribute, {}).get(value), language)
        if named:
            return named
        if attribute not in CODE_ATTRIBUTES and _SLUG.fullmatch(value):
            return readable(value)
        return value

    def has_value(self, attribute: str, value: str) -> bool:
        return value in self.values.get(attribute, {})

    def scope(self, language: str, attribute: str | None, value: str | None) -> str:
        """A report's scope: "kaikki", or "Liiketoiminta-alue: Verkkokauppa"."""
        if attribute is None or value is None:
            return text(language, "report_scope_all")
        return f"{attribute_name(language, attribute)}: {self.value(language, attribute, value)}"
