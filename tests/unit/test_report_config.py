"""Report groups: validation, when each is due, and which period it covers."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from survey_core.report.config import (
    REPORTS_PATH,
    Period,
    ReportConfigError,
    due_reports,
    load_groups,
    parse_groups,
    trend_periods,
)

pytestmark = pytest.mark.unit

RAW: dict[str, Any] = yaml.safe_load(REPORTS_PATH.read_text(encoding="utf-8"))
GROUPS = load_groups()


def _hourly(first: datetime, hours: int) -> list[datetime]:
    return [first + timedelta(hours=h) for h in range(hours)]


def _sent(start: datetime, days: int) -> list[tuple[str, str, str]]:
    """(group, local send time, period) for every report due over `days` of hourly ticks."""
    sent = []
    for tick in _hourly(start, days * 24):
        for due in due_reports(GROUPS, tick):
            local = due.send_moment.astimezone(due.group.time_zone)
            sent.append((due.group.name, local.strftime("%a %Y-%m-%d %H:%M"), due.period.label))
    return sent


def test_the_shipped_groups_are_valid() -> None:
    assert [g.name for g in GROUPS] == [
        "Leadership",
        "Webshop",
        "Customer service team",
        "Christmas campaign",
    ]
    assert GROUPS[1].scope.segment_key == "businessArea=webshop"
    assert GROUPS[0].scope.segment_key == "all"


def test_a_week_of_hourly_ticks_sends_each_report_once_at_its_local_time() -> None:
    sent = _sent(datetime(2026, 11, 16, 0, 0, tzinfo=UTC), 7)
    weekly = [s for s in sent if s[0] == "Leadership"]
    assert weekly == [("Leadership", "Mon 2026-11-16 07:00", "2026-11-09 – 2026-11-15")]
    daily = [s for s in sent if s[0] == "Webshop"]
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert [d[1] for d in daily] == [f"{day} 2026-11-{16 + n} 07:00" for n, day in enumerate(days)]
    assert daily[0][2] == "2026-11-15"
    assert not [s for s in sent if s[0] == "Christmas campaign"]


def test_weeks_are_monday_to_sunday_in_helsinki_across_the_autumn_dst_change() -> None:
    # Summer time ends on Sunday 25 Oct 2026 (04:00 EEST -> 03:00 EET): the report of Monday
    # 26 Oct still goes out at 07:00 local (05:00 UTC, not 04:00) and covers Mon 19 - Sun 25.
    sent = _sent(datetime(2026, 10, 24, 0, 0, tzinfo=UTC), 4)
    [weekly] = [s for s in sent if s[0] == "Leadership"]
    assert weekly == ("Leadership", "Mon 2026-10-26 07:00", "2026-10-19 – 2026-10-25")
    [due] = [d for d in due_reports(GROUPS, datetime(2026, 10, 26, 5, 0, tzinfo=UTC))
             if d.group.name == "Leadership"]  # fmt: skip
    assert due.send_moment == datetime(2026, 10, 26, 5, 0, tzinfo=UTC)


def test_the_spring_dst_change_neither_skips_nor_repeats_a_daily_report() -> None:
    # Summer time starts on Sunday 29 Mar 2026 (03:00 EET -> 04:00 EEST).
    sent = _sent(datetime(2026, 3, 27, 0, 0, tzinfo=UTC), 4)
    daily = [s[1] for s in sent if s[0] == "Webshop"]
    assert daily == [
        "Fri 2026-03-27 07:00",
        "Sat 2026-03-28 07:00",
        "Sun 2026-03-29 07:00",
        "Mon 2026-03-30 07:00",
    ]


def test_a_campaign_report_goes_once_the_day_after_it_ends_in_its_own_zone() -> None:
    sent = _sent(datetime(2026, 12, 20, 0, 0, tzinfo=UTC), 10)
    campaign = [s for s in sent if s[0] == "Christmas campaign"]
    assert campaign == [("Christmas campaign", "Fri 2026-12-25 07:00", "2026-11-23 – 2026-12-24")]


def test_a_period_compares_with_the_one_before_and_the_trend_goes_back_six() -> None:
    week = Period(date(2026, 11, 16), date(2026, 11, 22))
    assert week.before() == Period(date(2026, 11, 9), date(2026, 11, 15))
    trend = trend_periods(week)
    assert len(trend) == 6 and trend[-1] == week
    assert trend[0] == Period(date(2026, 10, 12), date(2026, 10, 18))
    campaign = Period(date(2026, 11, 23), date(2026, 12, 24))  # 32 days
    assert campaign.before() == Period(date(2026, 10, 22), date(2026, 11, 22))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["groups"][0].update(timeZone="Europe/Helsinky"),
         "$.groups[0].timeZone: unknown time zone 'Europe/Helsinky'"),
        (lambda r: r["groups"][1].update(name="Leadership"),
         "$.groups[1].name: duplicate group name 'Leadership'"),
        (lambda r: r["groups"][0].update(cadence="campaign"),
         "$.groups[0]: a campaign report needs campaign start and end"),
        (lambda r: r["groups"][3]["campaign"].update(end="2026-11-01"),
         "$.groups[3].campaign: ends before it starts"),
        (lambda r: r["groups"][0].update(recipients=["not-an-address"]),
         "$.groups[0].recipients[0]"),
        (lambda r: r["groups"][0].update(scope={"storeId": "x"}),
         "$.groups[0].scope"),
    ],
)  # fmt: skip
def test_every_problem_is_named_with_its_place(change: Any, problem: str) -> None:
    raw = copy.deepcopy(RAW)
    change(raw)
    with pytest.raises(ReportConfigError) as raised:
        parse_groups(raw)
    assert any(problem in p for p in raised.value.problems), raised.value.problems
