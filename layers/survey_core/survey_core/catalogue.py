"""The survey catalogue (catalogue.yaml): which surveys exist, what starts them, how they run.

The file is checked twice: against catalogue.schema.json (shape) and by the rules below
(what a schema cannot say: known time zones, unique ids, a question for every metric, filters
on fields the event really has). Every problem is reported as "<file>: <path>: <problem>".
`python -m survey_core.catalogue [FILE]` runs the same check for make and the deploy; with
--stamp it also writes the digest of the catalogue and its schema that passed (catalogue.checked,
shipped beside them). A function loading a catalogue whose digest matches its stamp builds it
without checking it again (the schema check and the rules); any other catalogue is checked in
full, as before. The layer ships the catalogue as JSON (`--compile`, run by its build), with the
digest of the YAML it came from: a cold start parses no YAML and imports no YAML library.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct, field

from .messages.brand import Brand, brand_problems
from .messages.names import DisplayNames

# A cold start only builds the catalogue its stamp vouches for: the schema check, the event
# contracts (filters) and the texts (questions) are imported where they are used.

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
SCHEMA_PATH = Path(__file__).with_name("catalogue.schema.json")
STAMP_NAME = "catalogue.checked"
COMPILED_SUFFIX = ".json"  # catalogue.yaml -> catalogue.json, beside it in the built layer
LANGUAGES = ("fi", "sv", "en")

# The field of each inbound event that identifies the business occurrence: the same order
# delivered twice (or re-sent with a new event id) must not survey twice. A Customer Inactive
# event is one inactive spell: the customer and the day the spell began.
BUSINESS_KEYS: Mapping[str, tuple[str, ...]] = {
    "Purchase Completed": ("orderId",),
    "Service Contact Closed": ("contactId",),
    "Survey Requested": ("requestId",),
    "Customer Inactive": ("customer.id", "inactiveSince"),
}


class CatalogueError(ValueError):
    """The catalogue is invalid; each line names the file, the path in it and the problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid survey catalogue:\n  " + "\n  ".join(problems))
        self.problems = problems


class Window(Struct, frozen=True):
    """A daily window of local clock time; it crosses midnight when end <= start."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Rung(Struct, frozen=True):
    channel: str
    after: timedelta  # since the previous message; zero for the invitation


class Trigger(Struct, frozen=True):
    detail_type: str
    filter: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    delay: timedelta = timedelta(0)
    inactivity_days: int | None = None

    def matches(self, detail: Mapping[str, Any]) -> bool:
        for path, allowed in self.filter.items():
            value = _lookup(detail, path)
            if value is None or value not in allowed:
                return False
        return True


class Recurring(Struct, frozen=True):
    not_surveyed_days: int
    daily_cap: int
    window: Window


# Scores at or below these become callback tasks when a survey names no thresholds of its own.
DEFAULT_ESCALATION_SCORES = {"nps": 6, "csat": 2, "ces": 3}
DEFAULT_SLA_HOURS = 48
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(Struct, frozen=True):
    """When the team works, in the survey's time zone: tasks are scheduled inside."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


class EscalationRule(Struct, frozen=True):
    """Which answers become callback tasks, and how fast the team should follow up."""

    scores: Mapping[str, int]  # metric -> the highest score that escalates
    keywords: tuple[str, ...]  # a comment containing one escalates too (case-insensitive)
    sla_hours: int
    business_hours: BusinessHours | None


class Survey(Struct, frozen=True):
    id: str
    metrics: tuple[str, ...]
    comment: bool
    questions: Mapping[str, Mapping[str, str]]
    trigger: Trigger | None
    ladder: tuple[Rung, ...]
    expires_after: timedelta
    sampling: float
    fatigue_days: int
    max_deferral_days: int
    quiet_hours: Window
    time_zone: ZoneInfo
    escalation: EscalationRule
    report_segments: tuple[str, ...]
    recurring: Recurring | None
    name: Mapping[str, str] = field(default_factory=dict)  # language -> display name

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    def question(self, metric: str, language: str, company: str) -> str:
        return self.questions[metric][language].replace("{company}", company)


class Catalogue(Struct, frozen=True):
    company: str
    default_language: str
    surveys: tuple[Survey, ...]
    # The display names of the surveys and of the segment values (`segments`), per language.
    names: DisplayNames = field(default_factory=DisplayNames)
    # The colour and logo of the survey pages (`brand`).
    brand: Brand = field(default_factory=Brand)

    def surveys_for(self, detail_type: str) -> list[Survey]:
        return [s for s in self.surveys if s.trigger and s.trigger.detail_type == detail_type]

    def find(self, survey_id: str) -> Survey | None:
        return next((s for s in self.surveys if s.id == survey_id), None)

    def question(self, survey_id: str, metric: str, language: str) -> str:
        """The survey's question; the built-in text when the survey has left the catalogue
        while its invitations are still open."""
        from .messages.i18n import resolve_language, text

        language = resolve_language(language)
        survey = self.find(survey_id)
        if survey is not None and metric in survey.questions:
            return survey.question(metric, language, self.company)
        return text(language, f"question_{metric}", company=self.company)

    def get(self, survey_id: str) -> Survey:
        survey = self.find(survey_id)
        if survey is None:
            raise KeyError(survey_id)
        return survey

    @property
    def inactivity_days(self) -> tuple[int, ...]:
        """Each distinct inactivity threshold: the daily job looks up one day per threshold."""
        return tuple(
            sorted(
                {
                    s.trigger.inactivity_days
                    for s in self.surveys
                    if s.trigger and s.trigger.inactivity_days
                }
            )
        )


def _lookup(detail: Mapping[str, Any], dotted_path: str) -> Any:
    value: Any = detail
    for name in dotted_path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def business_key(detail_type: str, detail: Mapping[str, Any]) -> str:
    fields = BUSINESS_KEYS.get(detail_type)
    if fields is None:
        raise ValueError(f"no business key defined for {detail_type!r}")
    return ":".join([detail_type, *(str(_lookup(detail, f)) for f in fields)])


# ---------------------------------------------------------------- parsing and checking


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _window(raw: Mapping[str, str]) -> Window:
    return Window(_clock(raw["start"]), _clock(raw["end"]))


def _zone(name: str, where: str, problems: list[str]) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown time zone {name!r}")
        return ZoneInfo("UTC")


def _check_survey(raw: Mapping[str, Any], where: str, problems: list[str]) -> None:
    metrics = raw["metrics"]
    problems.extend(
        f"{where}.questions: missing the question for metric {m}"
        for m in metrics
        if m not in raw["questions"]
    )
    for section, named in (
        ("questions", raw["questions"]),
        ("escalation.scores", raw.get("escalation", {}).get("scores", {})),
    ):
        problems.extend(
            f"{where}.{section}.{m}: {m} is not one of the metrics"
            for m in named
            if m not in metrics
        )
    hours = raw.get("escalation", {}).get("businessHours")
    if hours and hours["start"] >= hours["end"]:
        problems.append(f"{where}.escalation.businessHours: must end after it starts, same day")
    ladder = raw["ladder"]
    problems.extend(
        f"{where}.ladder[{index}].channel: a reminder must use another channel than the "
        "message before it"
        for index in range(1, len(ladder))
        if ladder[index]["channel"] == ladder[index - 1]["channel"]
    )
    if "quietHours" in raw:
        _check_quiet_hours(raw["quietHours"], f"{where}.quietHours", problems)
    recurring = raw.get("recurring")
    if recurring and recurring["window"]["start"] >= recurring["window"]["end"]:
        problems.append(f"{where}.recurring.window: must end after it starts, on the same day")
    if raw.get("trigger") is not None:
        _check_trigger(raw["trigger"], f"{where}.trigger", problems)


def _check_quiet_hours(window: Mapping[str, str], where: str, problems: list[str]) -> None:
    if window["start"] == window["end"]:
        problems.append(f"{where}: start and end are the same time (never sending)")


def _check_trigger(trigger: Mapping[str, Any], where: str, problems: list[str]) -> None:
    from .events.contracts import has_field

    detail_type = trigger["detailType"]
    for path in trigger.get("filter", {}):
        if not has_field(detail_type, path):
            problems.append(f"{where}.filter.{path}: {detail_type} events have no field {path}")
    inactive = detail_type == "Customer Inactive"
    if inactive and "inactivityDays" not in trigger:
        problems.append(f"{where}: Customer Inactive surveys need inactivityDays")
    if not inactive and "inactivityDays" in trigger:
        problems.append(f"{where}.inactivityDays: only for Customer Inactive surveys")


def _survey(
    raw: Mapping[str, Any],
    defaults: Mapping[str, Any],
    default_zone: ZoneInfo,
    where: str,
    problems: list[str],
) -> Survey:
    trigger_raw = raw.get("trigger")
    trigger = None
    if trigger_raw is not None:
        trigger = Trigger(
            detail_type=trigger_raw["detailType"],
            filter={k: tuple(v) for k, v in trigger_raw.get("filter", {}).items()},
            delay=timedelta(minutes=trigger_raw.get("delayMinutes", 0)),
            inactivity_days=trigger_raw.get("inactivityDays"),
        )
    recurring_raw = raw.get("recurring")
    return Survey(
        id=raw["id"],
        metrics=tuple(raw["metrics"]),
        comment=bool(raw.get("comment", False)),
        questions={m: dict(texts) for m, texts in raw["questions"].items()},
        trigger=trigger,
        ladder=tuple(
            Rung(rung["channel"], timedelta(hours=rung.get("afterHours", 0)))
            for rung in raw["ladder"]
        ),
        expires_after=timedelta(hours=raw["expiresAfterHours"]),
        sampling=float(raw["sampling"]),
        fatigue_days=raw.get("fatigueDays", defaults["fatigueDays"]),
        max_deferral_days=raw.get("maxDeferralDays", defaults["maxDeferralDays"]),
        quiet_hours=_window(raw.get("quietHours", defaults["quietHours"])),
        time_zone=(
            _zone(raw["timeZone"], f"{where}.timeZone", problems)
            if "timeZone" in raw
            else default_zone
        ),
        escalation=_escalation(raw.get("escalation", {}), raw["metrics"]),
        report_segments=tuple(raw["reportSegments"]),
        name=dict(raw["name"]),
        recurring=(
            Recurring(
                not_surveyed_days=recurring_raw["notSurveyedDays"],
                daily_cap=recurring_raw["dailyCap"],
                window=_window(recurring_raw["window"]),
            )
            if recurring_raw
            else None
        ),
    )


def _escalation(raw: Mapping[str, Any], metrics: list[str]) -> EscalationRule:
    scores = raw.get("scores", {m: DEFAULT_ESCALATION_SCORES[m] for m in metrics})
    hours = raw.get("businessHours")
    return EscalationRule(
        scores=dict(scores),
        keywords=tuple(k.casefold() for k in raw.get("keywords", ())),
        sla_hours=int(raw.get("slaHours", DEFAULT_SLA_HOURS)),
        business_hours=(
            BusinessHours(
                days=frozenset(WEEKDAYS.index(day) for day in hours["days"]),
                start=_clock(hours["start"]),
                end=_clock(hours["end"]),
            )
            if hours
            else None
        ),
    )


def parse_catalogue(raw: Any, source: str, checked: bool = False) -> Catalogue:
    """Build the catalogue, or raise CatalogueError listing every problem found. checked: this
    very catalogue passed the whole check before (its stamp matched), so only build it."""
    if not checked:
        from . import schemas

        errors = schemas.errors("catalogue", raw)
        if errors:
            raise CatalogueError([f"{source}: {e.at('$')}: {schemas.describe(e)}" for e in errors])
    problems: list[str] = []
    defaults = raw["defaults"]
    brand_raw = raw.get("brand", {})
    logo = CATALOGUE_PATH.with_name(brand_raw["logo"]) if "logo" in brand_raw else None
    brand = Brand(colour=brand_raw.get("colour", Brand().colour), logo=logo)
    if not checked:
        problems += brand_problems(brand.colour, logo, f"{source}: $.brand")
    default_zone = _zone(defaults["timeZone"], f"{source}: $.defaults.timeZone", problems)
    if not checked:
        _check_quiet_hours(defaults["quietHours"], f"{source}: $.defaults.quietHours", problems)
    seen: set[str] = set()
    surveys = []
    for index, survey_raw in enumerate(raw["surveys"]):
        where = f"{source}: $.surveys[{index}]"
        if survey_raw["id"] in seen:
            problems.append(f"{where}.id: duplicate survey id {survey_raw['id']!r}")
        seen.add(survey_raw["id"])
        if not checked:
            _check_survey(survey_raw, where, problems)
        surveys.append(_survey(survey_raw, defaults, default_zone, where, problems))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        company=raw["company"],
        default_language=defaults["language"],
        surveys=tuple(surveys),
        brand=brand,
        names=DisplayNames(
            surveys={survey.id: survey.name for survey in surveys},
            values={
                attribute: {value: dict(names) for value, names in values.items()}
                for attribute, values in raw.get("segments", {}).items()
            },
        ),
    )


def digest(catalogue_text: str) -> str:
    """What a stamp holds: the catalogue's and its schema's bytes, hashed together."""
    import hashlib

    content = SCHEMA_PATH.read_bytes() + b"\0" + catalogue_text.encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def stamp_path(path: Path) -> Path:
    return path.with_name(STAMP_NAME)


def _stamped(path: Path, text: str) -> bool:
    try:
        stamp = stamp_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return stamp == digest(text)


def _read(path: Path, trust_stamp: bool) -> tuple[str, Catalogue]:
    """The file's text and the catalogue built from that very text."""
    from .yaml_file import YAMLError, parse_yaml  # YAML only where the YAML is read

    try:
        text = path.read_text(encoding="utf-8")
        raw = parse_yaml(text)
    except OSError as error:
        raise CatalogueError([f"{path}: cannot be read ({error.strerror})"]) from None
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise CatalogueError([f"{path}:{line} is not valid YAML"]) from None
    checked = trust_stamp and _stamped(path, text)
    return text, parse_catalogue(raw, str(path), checked=checked)


def read_catalogue(path: Path, trust_stamp: bool = True) -> Catalogue:
    return _read(path, trust_stamp)[1]


def compiled_path(path: Path) -> Path:
    return path.with_suffix(COMPILED_SUFFIX)


def compile_catalogue(path: Path, target: Path) -> None:
    """The catalogue as JSON, with the digest of the YAML text it came from (what its stamp is
    compared with): the layer's build writes it, and load_catalogue prefers it."""
    from .yaml_file import parse_yaml

    text = path.read_text(encoding="utf-8")
    compiled = {"source": path.name, "digest": digest(text), "catalogue": parse_yaml(text)}
    target.write_text(json.dumps(compiled, ensure_ascii=False), encoding="utf-8")


def read_compiled(path: Path) -> Catalogue:
    compiled = json.loads(path.read_text(encoding="utf-8"))
    try:
        stamp = stamp_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        stamp = None
    checked = stamp == compiled["digest"]
    return parse_catalogue(compiled["catalogue"], compiled["source"], checked=checked)


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue a function runs with: the built layer's JSON, else the YAML (sources)."""
    compiled = compiled_path(path)
    return read_compiled(compiled) if compiled.is_file() else read_catalogue(path)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compile"]:  # --compile TARGET [FILE]: the layer's build step
        compile_catalogue(Path(argv[2]) if len(argv) > 2 else CATALOGUE_PATH, Path(argv[1]))
        return 0
    stamp = "--stamp" in argv
    names = [arg for arg in argv if arg != "--stamp"]
    path = Path(names[0]) if names else CATALOGUE_PATH
    try:
        text, catalogue = _read(path, trust_stamp=False)  # the whole check, always
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{path}: ok ({len(catalogue.surveys)} surveys)")
    if stamp:  # the digest of the text that was checked, not of the file read again
        checked = digest(text) + "\n"
        target = stamp_path(path)
        if not target.is_file() or target.read_text(encoding="ascii") != checked:
            target.write_text(checked, encoding="ascii")
            print(f"{target}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
