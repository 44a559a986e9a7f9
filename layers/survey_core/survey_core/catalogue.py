"""The survey catalogue (catalogue.yaml): which surveys an event starts and how they run."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
CHANNELS = ("email", "sms")

# The field of each inbound event that identifies the business occurrence: the same order
# delivered twice (or re-sent with a new event id) must not survey twice.
BUSINESS_KEYS = {
    "Purchase Completed": "orderId",
    "Service Contact Closed": "contactId",
    "Survey Requested": "requestId",
}


class CatalogueError(ValueError):
    """The catalogue file is invalid; the message names the file and the path in it."""


@dataclass(frozen=True)
class Rung:
    channel: str
    wait_seconds: int


@dataclass(frozen=True)
class Survey:
    id: str
    metrics: tuple[str, ...]
    detail_type: str
    ladder: tuple[Rung, ...]

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]


@dataclass(frozen=True)
class Catalogue:
    company: str
    default_language: str
    surveys: tuple[Survey, ...]

    def surveys_for(self, detail_type: str) -> list[Survey]:
        return [s for s in self.surveys if s.detail_type == detail_type]

    def get(self, survey_id: str) -> Survey:
        for survey in self.surveys:
            if survey.id == survey_id:
                return survey
        raise KeyError(survey_id)


def business_key(detail_type: str, detail: dict[str, Any]) -> str:
    field = BUSINESS_KEYS.get(detail_type)
    if field is None:
        raise ValueError(f"no business key defined for {detail_type!r}")
    return f"{detail_type}:{detail[field]}"


def _parse_survey(raw: dict[str, Any], where: str) -> Survey:
    ladder = tuple(
        Rung(channel=rung["channel"], wait_seconds=int(rung["waitHours"] * 3600))
        for rung in raw["ladder"]
    )
    for index, rung in enumerate(ladder):
        if rung.channel not in CHANNELS:
            raise CatalogueError(f"{where}.ladder[{index}].channel: unknown {rung.channel!r}")
    if not 1 <= len(ladder) <= 2:
        raise CatalogueError(f"{where}.ladder: one invitation and at most one reminder")
    return Survey(
        id=raw["id"],
        metrics=tuple(raw["metrics"]),
        detail_type=raw["trigger"]["detailType"],
        ladder=ladder,
    )


def parse_catalogue(raw: dict[str, Any], source: str) -> Catalogue:
    try:
        surveys = tuple(
            _parse_survey(s, f"{source}: surveys[{i}]") for i, s in enumerate(raw["surveys"])
        )
        return Catalogue(
            company=raw["company"],
            default_language=raw["defaultLanguage"],
            surveys=surveys,
        )
    except KeyError as missing:
        raise CatalogueError(f"{source}: missing key {missing}") from None


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    with path.open(encoding="utf-8") as stream:
        return parse_catalogue(yaml.safe_load(stream), str(path.name))
