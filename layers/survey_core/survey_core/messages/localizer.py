"""Everything one language says, in one object for a renderer (templates, the chart, the
workbook): texts by message id, numbers, percentages and dates, and display names."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from msgspec import Struct, field
from msgspec.structs import force_setattr

from . import formatting, names
from .i18n import plural, resolve_language, text


class Localizer(Struct, frozen=True):
    language: str
    names: names.DisplayNames = field(default_factory=names.DisplayNames)

    def __post_init__(self) -> None:
        force_setattr(self, "language", resolve_language(self.language))

    # ------------------------------------------------------------ texts

    def text(self, key: str, **params: object) -> str:
        return text(self.language, key, **params)

    def plural(self, key: str, count: int, **params: object) -> str:
        return plural(self.language, key, count, **params)

    # ------------------------------------------------------------ numbers and dates

    def number(self, value: float, digits: int = 0) -> str:
        return formatting.format_number(self.language, value, digits)

    def percent(self, value: float, digits: int = 1) -> str:
        return formatting.format_percent(self.language, value, digits)

    def signed(self, value: float, digits: int = 1) -> str:
        return formatting.format_signed(self.language, value, digits)

    def interval(self, low: float, high: float, digits: int = 1) -> str:
        return formatting.format_score_interval(self.language, low, high, digits)

    def hours(self, value: float) -> str:
        return formatting.format_hours(self.language, value)

    def date(self, day: date | str) -> str:
        return formatting.format_date(self.language, day)

    def moment(self, moment: datetime, zone: tzinfo) -> str:
        return formatting.format_moment(self.language, moment, zone)

    def period(self, key: str, short: bool = False) -> str:
        return formatting.format_period_key(self.language, key, short)

    # ------------------------------------------------------------ names

    def survey(self, survey_id: str) -> str:
        return self.names.survey(self.language, survey_id)

    def value(self, attribute: str, value: str) -> str:
        return self.names.value(self.language, attribute, value)

    def scope(self, attribute: str | None, value: str | None) -> str:
        return self.names.scope(self.language, attribute, value)

    def metric(self, metric: str) -> str:
        return names.metric_name(self.language, metric)

    def attribute(self, attribute: str) -> str:
        return names.attribute_name(self.language, attribute)

    def channel(self, channel: str) -> str:
        return names.channel_name(self.language, channel)

    def verdict(self, verdict: str) -> str:
        return names.verdict_name(self.language, verdict)

    def share(self, share: str) -> str:
        return names.share_name(self.language, share)
