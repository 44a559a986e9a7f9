"""The report's numbers from counters: headline, change, trend, segments, channels, follow-up,
the takeaway."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from msgspec.structs import replace
from survey_core.catalogue import load_catalogue
from survey_core.report.config import Period, load_groups
from survey_core.report.content import CounterRow, build_report_data, channel_rows
from survey_core.report.model import Estimate, Rate

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
    # NPS 30 with its adjusted-Wald interval 14.05..44.20 (test_stats), not "30 +- 15.3"
    headline = block.headline
    assert (headline.value, headline.n) == (pytest.approx(30.0), 100)
    assert (headline.low, headline.high) == (
        pytest.approx(14.05, abs=0.01),
        pytest.approx(44.20, abs=0.01),
    )
    assert block.shares["promoters"].value == pytest.approx(50.0)
    assert block.shares["detractors"].value == pytest.approx(20.0)
    assert block.shares["detractors"].low == pytest.approx(13.33, abs=0.01)  # Wilson
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
    # a week without answers is a gap: no value and no interval, not a value at -100 or 0
    assert data.trend[1].estimate == Estimate.withheld(0)
    # every other point carries its interval for the chart's band
    assert all(p.low is not None and p.high is not None for p in data.trend if p.n)
    assert data.trend[-1].low == pytest.approx(14.05, abs=0.01)


def test_a_week_with_too_few_answers_has_no_value_but_its_n() -> None:
    # Given three answers in W44 (a promoter, a passive, a detractor)
    table = {**TABLE}
    table["post-purchase#nps"] = [
        *TABLE["post-purchase#nps"],
        _nps_rows(TUESDAY - timedelta(days=21), "all", 1, 1, 1),
    ]
    # When the report is built
    trend = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(table)).trend
    # Then that week is "too few answers": no value, n = 3
    assert trend[2].label == "2026-W44"
    assert (trend[2].value, trend[2].n, trend[2].estimate.too_few) == (None, 3, True)


def test_the_trend_axis_follows_the_data_and_its_intervals() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    assert data.trend_metric == "nps"
    # NPS 0 of 10 (-46..47), -10 of 100 (-25..6), 30 of 100 (14..44): padded by 10 points,
    # on steps of 10: -60..60, not -100..100
    low, high = (
        min(p.low for p in data.trend if p.low is not None),
        max(p.high for p in data.trend if p.high is not None),
    )
    assert data.trend_axis == (-60.0, 60.0)
    assert data.trend_axis[0] <= low - 10 and high + 10 <= data.trend_axis[1]


def test_segments_are_set_apart_from_the_rest_only_when_significant() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    # webshop (NPS 43.75 of 80) against the rest of the scope, which is store (-25 of 20):
    # z = 3.41, Holm over the two: p = 0.0013 for both
    rows = [(s.value, round(s.headline.value or 0, 2), s.standing) for s in data.segments]
    assert rows == [("webshop", 43.75, "higher"), ("store", -25.0, "lower")]
    webshop = data.segments[0]
    assert webshop.difference == pytest.approx(68.75)
    assert webshop.p_value == pytest.approx(0.0013, abs=0.0001)


def _segment_table(segments: dict[str, tuple[int, int, int]]) -> dict[str, list[CounterRow]]:
    total = [sum(parts) for parts in zip(*segments.values(), strict=True)]
    rows = [_nps_rows(TUESDAY, "all", *total)]
    rows += [_nps_rows(TUESDAY, f"businessArea={name}", *v) for name, v in segments.items()]
    return {**TABLE, "post-purchase#nps": rows}


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        pytest.param(
            # NPS 20, 30, 25 of 40 each: their intervals overlap widely
            {"store": (16, 16, 8), "app": (18, 16, 6), "webshop": (20, 12, 8)},
            # no ranking: one group, by name
            [
                ("app", "no clear difference"),
                ("store", "no clear difference"),
                ("webshop", "no clear difference"),
            ],
            id="overlapping intervals: no ranking",
        ),
        pytest.param(
            # four areas at NPS 30 and b2b at -45, 40 answers each; kiosk with 3 answers
            {
                "a1": (18, 16, 6),
                "a2": (18, 16, 6),
                "a3": (18, 16, 6),
                "a4": (18, 16, 6),
                "b2b": (6, 10, 24),
                "kiosk": (1, 1, 1),
            },
            [
                ("a1", "no clear difference"),
                ("a2", "no clear difference"),
                ("a3", "no clear difference"),
                ("a4", "no clear difference"),
                ("b2b", "lower"),
                ("kiosk", "too few answers"),
            ],
            id="one clearly worse: flagged, last but the small one",
        ),
    ],
)
def test_segments_are_grouped_when_their_difference_is_noise(
    segments: dict[str, tuple[int, int, int]], expected: list[tuple[str, str]]
) -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(_segment_table(segments)))
    assert [(s.value, s.standing) for s in data.segments] == expected
    kiosk = [s for s in data.segments if s.value == "kiosk"]
    for row in kiosk:  # no figure and no comparison for too few answers
        assert (row.headline, row.difference, row.p_value) == (Estimate.withheld(3), None, None)


def test_channels_reminders_and_follow_up() -> None:
    data = build_report_data(LEADERSHIP, WEEK, CATALOGUE, _rows(TABLE))
    email, sms = data.channels
    # each rate carries its own denominator: invitations with a message on the channel, not
    # the messages (500 with the reminders)
    assert (email.rate, email.messages) == (Rate(80, 400), 500)
    assert email.rate.pct == 20.0
    assert (sms.rate, sms.messages) == (Rate(20, 150), 150)
    assert sms.rate.pct == pytest.approx(13.333, rel=1e-3)
    # overall: answered invitations / invitations sent
    assert data.response_rate == Rate(100, 400)
    assert data.response_rate.pct == 25.0
    assert data.after_reminder == Rate(35, 100)
    assert data.responses == 100
    assert data.follow_up.sla_met_pct == pytest.approx(80.0)


def test_the_issues_response_rate_names_its_own_denominator() -> None:
    # Given the week of the issue: 518 answers through email, 3,010 email messages sent (with
    # the reminders) to 2,730 invitations
    counts = {"via_email": 518, "email_messages": 3010, "email_invitations": 2730}
    # When the rows are made
    email, sms = channel_rows(counts)
    # Then the 19.0 % is 518 / 2,730 and says so; the 3,010 messages are not its denominator
    assert (email.rate.numerator, email.rate.denominator) == (518, 2730)
    assert email.rate.pct == pytest.approx(18.97, abs=0.01)
    assert email.messages == 3010
    # and a channel nothing was sent on has no rate, not 0 %
    assert (sms.rate, sms.rate.pct) == (Rate(0, 0), None)


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
    # checkout (NPS 53.8 of 65) against its rest, delivery (0 of 15):
    #   checkout n' = 68, p' = 40.75 / 68 = 0.599265, d' = 5.75 / 68 = 0.084559, centre 0.514706
    #     var = 0.683824 - 0.264922 = 0.418902, se = sqrt(0.418902 / 68) = 0.078489
    #   delivery n' = 18, p' = d' = 5.75 / 18 = 0.319444, centre 0, var 0.638889, se 0.188398
    #   z = 0.514706 / sqrt(0.0061605 + 0.0354938) = 2.5219, p = 0.01167; Holm x 2: 0.0233
    rows = [(s.attribute, s.value, s.standing) for s in data.segments]
    assert rows == [("touchpoint", "checkout", "higher"), ("touchpoint", "delivery", "lower")]
    assert data.segments[0].p_value == pytest.approx(0.0233, abs=0.0001)
    assert data.scope_label == "Liiketoiminta-alue: Verkkokauppa"


def test_a_small_sample_says_too_few_answers_instead_of_a_number() -> None:
    # Given the issue's week: three NPS answers (2 promoters, 1 detractor) after 100 the week
    # before
    table = {
        **TABLE,
        "post-purchase#nps": [
            _nps_rows(TUESDAY, "all", 2, 0, 1),
            _nps_rows(TUESDAY - timedelta(days=7), "all", 20, 50, 30),
        ],
    }
    # When the report is built (in English)
    group = replace(LEADERSHIP, language="en")
    data = build_report_data(group, WEEK, CATALOGUE, _rows(table))
    [block] = data.blocks
    # Then no "33.3 +- 106.7": no figure, no shares, no change, only n
    assert block.headline == Estimate.withheld(3)
    assert block.headline.too_few
    assert all(share == Estimate.withheld(3) for share in block.shares.values())
    assert (block.change.difference, block.change.verdict) == (None, "not enough data")
    assert data.takeaway_line.startswith("NPS: too few answers (n = 3)")


@pytest.mark.parametrize(
    ("language", "overdue", "line"),
    [
        ("en", 0, "NPS 30, up 40 from last week; no callbacks overdue"),
        ("en", 1, "NPS 30, up 40 from last week; 1 callback overdue"),
        ("en", 2, "NPS 30, up 40 from last week; 2 callbacks overdue"),
        ("fi", 2, "NPS 30, nousua 40 edellisestä viikosta; 2 takaisinsoittoa myöhässä"),
        ("sv", 1, "NPS 30, upp 40 jämfört med förra veckan; 1 försenad återuppringning"),
    ],
)
def test_the_takeaway_is_computed_from_the_report(language: str, overdue: int, line: str) -> None:
    group = replace(LEADERSHIP, language=language)
    data = build_report_data(group, WEEK, CATALOGUE, _rows(TABLE), overdue=overdue)
    takeaway = data.takeaway
    assert takeaway is not None
    assert (takeaway.label, takeaway.headline, takeaway.change) == (
        "NPS",
        data.blocks[0].headline,
        data.blocks[0].change,
    )
    assert (takeaway.since, takeaway.overdue) == ("week", overdue)
    assert data.takeaway_line == line


def test_a_period_without_answers_is_the_empty_variant() -> None:
    data = build_report_data(LEADERSHIP, Period(date(2027, 1, 4), date(2027, 1, 10)), CATALOGUE,
                             _rows(TABLE))  # fmt: skip
    assert data.empty
    assert data.blocks == []
    assert data.trend == []
    assert (data.takeaway, data.takeaway_line, data.trend_axis) == (None, "", None)
