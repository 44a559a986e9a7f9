"""Manager report groups (reports.yaml): who gets which report, when, for which period.

Pure. One hourly schedule invokes the report function with its scheduled time; `due_reports`
says which groups' local send time fell in the hour that ended then, and for which period.
Periods are whole days of the counters' zone (ReportTimeZone); a group's own time zone decides
only when it is sent.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct

REPORTS_PATH = Path(__file__).with_name("reports.yaml")
SCHEMA_PATH = Path(__file__).with_name("reports.schema.json")
COMPILED_SUFFIX = ".json"  # reports.yaml -> reports.json, beside it in the built layer
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TICK = timedelta(hours=1)  # how often the report schedule fires
TREND_PERIODS = 6  # earlier periods shown in the trend, the current one included


class ReportConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid report groups:\n  " + "\n  ".join(problems))
        self.problems = problems


class Period(Struct, frozen=True):
    first_day: date
    last_day: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"

    def before(self) -> Period:
        """The period of the same length just before: what a change is measured against."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(1))


class Scope(Struct, frozen=True):
    attribute: str | None  # None: everything
    value: str | None

    @property
    def segment_key(self) -> str:
        """The aggregate counters' segment key of this scope (logic/counting.segment_keys)."""
        return "all" if self.attribute is None else f"{self.attribute}={self.value}"

    @property
    def series_suffix(self) -> str:
        """The scope's own counter series (logic/counting.split_scope reads it): "" for all."""
        return "" if self.attribute is None else f"@{self.segment_key}"


class ReportGroup(Struct, frozen=True):
    name: str
    recipients: tuple[str, ...]
    scope: Scope
    cadence: str  # weekly | daily | campaign
    weekday: int  # 0 = Monday (weekly)
    send_at: time
    time_zone: ZoneInfo
    language: str
    campaign: Period | None

    def send_moment(self, day: date) -> datetime | None:
        """When this group's report goes out on a local day, or None if not that day."""
        if self.cadence == "weekly" and day.weekday() != self.weekday:
            return None
        if self.cadence == "campaign" and (
            self.campaign is None or day != self.campaign.last_day + timedelta(days=1)
        ):
            return None
        # A local time skipped by a DST change (spring forward) is sent an hour later, as
        # zoneinfo resolves it; a repeated one (autumn) once, at its first occurrence.
        return datetime.combine(day, self.send_at, self.time_zone)

    def period(self, send_day: date) -> Period:
        """What the report sent on send_day (local) covers."""
        if self.cadence == "campaign":
            assert self.campaign is not None
            return self.campaign
        if self.cadence == "daily":
            yesterday = send_day - timedelta(days=1)
            return Period(yesterday, yesterday)
        this_monday = send_day - timedelta(days=send_day.weekday())
        return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))


class DueReport(Struct, frozen=True):
    group: ReportGroup
    period: Period
    send_moment: datetime


def due_reports(
    groups: tuple[ReportGroup, ...], scheduled: datetime, tick: timedelta = TICK
) -> list[DueReport]:
    """The groups whose send time is in (scheduled - tick, scheduled]: each due exactly once
    as the hourly schedule moves on, whatever the group's zone or a DST change."""
    due = []
    for group in groups:
        local = scheduled.astimezone(group.time_zone)
        for day in (local.date() - timedelta(days=1), local.date()):
            moment = group.send_moment(day)
            if moment is not None and scheduled - tick < moment <= scheduled:
                due.append(DueReport(group, group.period(day), moment))
    return due


def trend_periods(period: Period, count: int = TREND_PERIODS) -> list[Period]:
    """The period and the ones before it, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.insert(0, periods[0].before())
    return periods


# ---------------------------------------------------------------- loading


def parse_groups(raw: Any, source: str = "reports.yaml") -> tuple[ReportGroup, ...]:
    # Only where groups are read (the report function, at init): the results view uses the
    # periods and groups above without reading reports.yaml, and without the validators.
    from .. import schemas

    errors = schemas.errors("reports", raw)
    if errors:
        raise ReportConfigError([f"{source}: {e.at('$')}: {schemas.describe(e)}" for e in errors])
    defaults = raw["defaults"]
    problems: list[str] = []
    groups = []
    names: set[str] = set()
    for index, item in enumerate(raw["groups"]):
        where = f"{source}: $.groups[{index}]"
        merged = {**defaults, **item}
        if item["name"] in names:
            problems.append(f"{where}.name: duplicate group name {item['name']!r}")
        names.add(item["name"])
        try:
            zone = ZoneInfo(merged["timeZone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}.timeZone: unknown time zone {merged['timeZone']!r}")
            zone = ZoneInfo("UTC")
        campaign = None
        if merged["cadence"] == "campaign":
            if "campaign" not in item:
                problems.append(f"{where}: a campaign report needs campaign start and end")
            else:
                campaign = Period(
                    date.fromisoformat(item["campaign"]["start"]),
                    date.fromisoformat(item["campaign"]["end"]),
                )
                if campaign.last_day < campaign.first_day:
                    problems.append(f"{where}.campaign: ends before it starts")
        elif "campaign" in item:
            problems.append(f"{where}.campaign: only for cadence campaign")
        scope_raw = item["scope"]
        scope = (
            Scope(None, None) if scope_raw == "all" else Scope(*next(iter(dict(scope_raw).items())))
        )
        hours, minutes = merged["sendAt"].split(":")
        groups.append(
            ReportGroup(
                name=item["name"],
                recipients=tuple(item["recipients"]),
                scope=scope,
                cadence=merged["cadence"],
                weekday=WEEKDAYS.index(merged["weekday"]),
                send_at=time(int(hours), int(minutes)),
                time_zone=zone,
                language=merged["language"],
                campaign=campaign,
            )
        )
    if problems:
        raise ReportConfigError(problems)
    return tuple(groups)


def compiled_path(path: Path) -> Path:
    return path.with_suffix(COMPILED_SUFFIX)


def compile_groups(path: Path, target: Path) -> None:
    """reports.yaml as JSON, for the layer (its build runs this): no YAML at a cold start."""
    from ..yaml_file import parse_yaml

    raw = parse_yaml(path.read_text(encoding="utf-8"))
    target.write_text(json.dumps({"source": path.name, "groups": raw}), encoding="utf-8")


def load_groups(path: Path = REPORTS_PATH) -> tuple[ReportGroup, ...]:
    """The report groups: the built layer's JSON, else the YAML (sources). Checked either way."""
    compiled = compiled_path(path)
    if compiled.is_file():
        found = json.loads(compiled.read_text(encoding="utf-8"))
        return parse_groups(found["groups"], found["source"])
    from ..yaml_file import parse_yaml

    return parse_groups(parse_yaml(path.read_text(encoding="utf-8")), path.name)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compile"]:  # --compile TARGET [FILE]: the layer's build step
        compile_groups(Path(argv[2]) if len(argv) > 2 else REPORTS_PATH, Path(argv[1]))
        return 0
    path = Path(argv[0]) if argv else REPORTS_PATH
    try:
        groups = load_groups(path)
    except ReportConfigError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{path}: ok ({len(groups)} report groups)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
