"""The report's numbers from counters: headline, change, trend, segments, channels, follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from survey_core.catalogue import load_catalogue
from survey_core.report.config import Period, load_groups
from survey_core.report.content import CounterRow, build_report_data

pytestmark = pytest.mark.unit

CATALOGUE = load_catalogue()
LEADERSHIP, WEBSHOP = load_groups()[:2]
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
TUESDAY = date(2026, 11, 17)


def _rows(table: dict[str, list[CounterRow]]):
    def read(series: str, first: date, last: date) -> Iterable[CounterRow]:
        return [r for r in table.get(series, []) if first <= r.day <= last]

    return read


def _nps_rows(day: date, key: str, promoters: int, passives: int, detractors: int) -> CounterRow:
    return CounterRow(day, key, {10: promoters, 8: passives, 3: detractors}, {})


TABLE = {
    "post-purchase#nps": [
        # this week, all: 50 promoters, 30 passives, 20 detractors -> NPS 30
        _nps_rows(TUESDAY, "all", 50, 30, 20),
        _nps_rows(TUESDAY, "businessArea=webshop", 45, 25, 10),  # NPS 43.75, n 80
        _nps_rows(TUESDAY, "businessArea=store", 5, 5, 10),  # n 20: flagged
        # the week before: NPS -10 of 100 answers; three weeks before: none; five before: 10
        _nps_rows(TUESDAY - timedelta(days=7), "all", 20, 50, 30),
        _nps_rows(TUESDAY - timedelta(days=35), "all", 4, 2, 4),
    ],
    # the webshop scope's own series: 80 answers, by touchpoint
    "post-purchase#nps@businessArea=webshop": [
        _nps_rows(TUESDAY, "all", 45, 25, 10),
        _nps_rows(TUESDAY, "touchpoint=checkout", 40, 20, 5),  # n 65
        _nps_rows(TUESDAY, "touchpoint=delivery", 5, 5, 5),  # n 15: flagged
    ],
    "post-purchase#sent": [
        CounterRow(
            TUESDAY,
            "all",
            {},
            {
                "invitations": 400,
                "email_messages": 500,
                "sms_messages": 150,
                "email_invitations": 400,
                "sms_invitations": 150,
            },
        ),
    ],
    "post-purchase#responses": [
        CounterRow(
            TUESDAY, "all", {}, {"n": 100, "via_email": 80, "via_sms": 20, "after_reminder": 35}
        ),
    ],
    "post-purchase#escalations": [
        CounterRow(TUESDAY, "all", {}, {"created": 20, "done": 15, "sla_met": 12, "sla_missed": 3}),
    ],
}


def test_the_headline_shares_and_a_significant_change() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    [block] = data.blocks
    assert (block.survey_id, block.label) == ("post-purchase", "NPS")
    assert block.headline.value == pytest.approx(30.0)
    assert block.headline.n == 100
    assert block.shares["promoters"].value == pytest.approx(50.0)
    assert block.shares["detractors"].value == pytest.approx(20.0)
    # -10 -> 30: +40 points with n = 100 on both sides is far outside the noise
    assert block.change.difference == pytest.approx(40.0)
    assert block.change.verdict == "up"


def test_the_trend_has_six_weeks_with_gaps_for_weeks_without_answers() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    assert data.trend_metric_label == "NPS, Oston jälkeen"  # Leadership reads Finnish
    assert [p.label for p in data.trend] == [
        "2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47",
    ]  # fmt: skip
    assert [p.value for p in data.trend] == [0.0, None, None, None, -10.0, 30.0]
    assert [p.n for p in data.trend] == [10, 0, 0, 0, 100, 100]


def test_segments_are_ranked_and_small_ones_flagged_not_ranked() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    rows = [(s.value, round(s.headline.value, 2), s.rank, s.small_n) for s in data.segments]
    assert rows == [("webshop", 43.75, 1, False), ("store", -25.0, None, True)]


def test_channels_reminders_and_follow_up() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    email, sms = data.channels
    assert (email.sent, email.answered, email.rate_pct) == (500, 80, 20.0)
    assert (sms.sent, sms.answered) == (150, 20)
    assert sms.rate_pct == pytest.approx(13.333, rel=1e-3)
    assert (data.responses, data.answered_after_reminder) == (100, 35)
    assert data.follow_up.sla_met_pct == pytest.approx(80.0)


def test_open_tasks_past_their_deadline_count_as_missed_and_time_to_agent_is_shown() -> None:
    # Given a week of 20 callback tasks: 15 ended (12 completed, 10 of them in time; 2 not
    # reached; 1 expired), 13 reached an agent after 3 h on average, and 3 of the 5 still open
    # are past their deadline at the report's sending
    escalations = {
        "created": 20, "done": 15, "completed": 12, "not_reached": 2, "expired": 1,
        "sla_met": 10, "sla_missed": 5, "reached": 13, "to_agent_seconds": 13 * 3 * 3600,
    }  # fmt: skip
    table = {**TABLE, "post-purchase#escalations": [CounterRow(TUESDAY, "all", {}, escalations)]}
    # When the report is built
    fu = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(table), overdue=3).follow_up
    # Then the overdue open tasks are missed: 10 met of 18 decided, not 10 of 15
    assert (fu.completed, fu.not_reached, fu.expired) == (12, 2, 1)
    assert (fu.open, fu.overdue, fu.sla_missed, fu.decided) == (5, 3, 8, 18)
    assert fu.sla_met_pct == pytest.approx(100 * 10 / 18)
    assert (fu.reached, fu.mean_hours_to_agent) == (13, pytest.approx(3.0))


def test_without_decided_tasks_there_is_no_sla_share() -> None:
    table = {**TABLE, "post-purchase#escalations": [CounterRow(TUESDAY, "all", {}, {"created": 2})]}
    fu = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(table)).follow_up
    assert (fu.open, fu.sla_met_pct, fu.mean_hours_to_agent) == (2, None, None)


def test_a_scoped_group_reads_only_its_scope() -> None:
    data = build_report_data(WEBSHOP, Period(TUESDAY, TUESDAY), CATALOGUE, _rows(TABLE))
    [block] = data.blocks
    assert block.headline.n == 80
    # the breakdown inside the scope comes from the scope's own series; the scope attribute is
    # not broken down again
    rows = [(s.attribute, s.value, s.rank, s.small_n) for s in data.segments]
    assert rows == [("touchpoint", "checkout", 1, False), ("touchpoint", "delivery", None, True)]
    assert data.scope_label == "Liiketoiminta-alue: Verkkokauppa"


def test_a_period_without_answers_is_the_empty_variant() -> None:
    data = build_report_data(LEADERSHIP, Period(date(2027, 1, 4), date(2027, 1, 10)), CATALOGUE,
                             _rows(TABLE))  # fmt: skip
    assert data.empty
    assert data.blocks == []
    assert data.trend == []
