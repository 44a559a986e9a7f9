"""Every eligibility rule at its edges: fixed instants, no clock, no AWS."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace
from survey_core.catalogue import Survey, Window, load_catalogue
from survey_core.rules import eligibility as rules
from survey_core.rules.eligibility import ChannelState, CustomerFacts, plan_invitation

pytestmark = pytest.mark.unit

HELSINKI = ZoneInfo("Europe/Helsinki")
QUIET = Window(time(21), time(8))
# Monday 16 Nov 2026, 12:00 in Helsinki (UTC+2): the middle of an ordinary day.
NOON = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def survey(**changes: object) -> Survey:
    base = load_catalogue().get("post-purchase")
    changes.setdefault("trigger", replace(base.trigger, delay=timedelta(0)))  # type: ignore[arg-type]
    return replace(base, **changes)  # type: ignore[arg-type]


def customer(**changes: object) -> CustomerFacts:
    base = CustomerFacts(
        customer_id="cust-1",
        email=ChannelState("maija@example.com"),
        sms=ChannelState("+358401234567"),
        time_zone="Europe/Helsinki",
        last_contact_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def plan(s: Survey | None = None, c: CustomerFacts | None = None, now: datetime = NOON):
    return plan_invitation(survey=s or survey(), customer=c or customer(), occurred_at=now, now=now)


# ---------------------------------------------------------------- the ordinary case


def test_an_eligible_customer_gets_every_rung_of_the_ladder() -> None:
    # post-purchase: email, SMS 24 h later, a last email 72 h after that, open 72 h more
    result = plan()
    assert result.reason is None
    assert result.send_at == NOON
    assert result.channels == ("email", "sms", "email")
    assert [r.at for r in result.rungs] == [
        NOON,
        NOON + timedelta(hours=24),
        NOON + timedelta(hours=24 + 72),
    ]
    assert result.expires_at == NOON + timedelta(days=7)
    assert result.last_contact_at == result.rungs[-1].at  # reminders count as contacts


def test_the_send_delay_counts_from_the_business_event() -> None:
    delayed = survey(trigger=replace(survey().trigger, delay=timedelta(hours=2)))
    result = plan_invitation(
        survey=delayed, customer=customer(), occurred_at=NOON - timedelta(minutes=30), now=NOON
    )
    assert result.send_at == NOON + timedelta(minutes=90)
    assert result.reason == rules.SEND_DELAY


def test_an_event_delivered_long_after_its_delay_is_sent_at_once() -> None:
    delayed = survey(trigger=replace(survey().trigger, delay=timedelta(hours=2)))
    result = plan_invitation(
        survey=delayed, customer=customer(), occurred_at=NOON - timedelta(days=1), now=NOON
    )
    assert result.send_at == NOON
    assert result.reason is None


# ---------------------------------------------------------------- consent and contact points


def test_an_opted_out_channel_is_never_in_the_plan_and_keeps_the_ladder_timeline() -> None:
    result = plan(c=customer(sms=ChannelState("+358401234567", consent=False)))
    # The SMS rung is left out; the last email still comes 24 + 72 h after the invitation.
    assert result.channels == ("email", "email")
    assert [r.at for r in result.rungs] == [NOON, NOON + timedelta(hours=96)]
    assert result.expires_at == NOON + timedelta(days=7)


def test_when_the_first_channel_is_unusable_the_first_usable_rung_is_the_invitation() -> None:
    # SMS only: the SMS rung goes at once instead of 24 h later; the email rungs are left out.
    result = plan(c=customer(email=ChannelState(None)))
    assert result.channels == ("sms",)
    assert result.send_at == NOON
    assert result.expires_at == NOON + timedelta(hours=72)


def test_every_reminder_is_moved_out_of_quiet_hours_and_the_next_counts_from_it() -> None:
    # Invitation at 20:30 Helsinki: the SMS 24 h later falls at 20:30 (allowed); a ladder
    # with a 25 h step lands at 21:30, inside quiet hours, and waits for 08:00.
    evening = datetime(2026, 11, 16, 18, 30, tzinfo=UTC)  # 20:30 in Helsinki
    base = survey()
    ladder = (
        base.ladder[0],
        replace(base.ladder[1], after=timedelta(hours=25)),
        base.ladder[2],
    )
    result = plan(s=survey(ladder=ladder), now=evening)
    morning = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # Wednesday 08:00 in Helsinki
    assert [r.at for r in result.rungs] == [evening, morning, morning + timedelta(hours=72)]


@pytest.mark.parametrize(
    ("suppressed", "reason"),
    [
        ("bounced", rules.BOUNCED),
        ("complained", rules.OPTED_OUT),
        ("unsubscribed", rules.OPTED_OUT),
        ("stop-reply", rules.OPTED_OUT),
    ],
)
def test_a_suppressed_address_is_unusable_with_its_reason(suppressed: str, reason: str) -> None:
    email = ChannelState("maija@example.com", suppressed=suppressed)
    assert email.problem == reason
    partly = plan(c=customer(email=email))
    assert partly.channels == ("sms",)
    wholly = plan(c=customer(email=email, sms=ChannelState(None)))
    assert (wholly.suppressed, wholly.reason) == (True, reason)


def test_opted_out_of_every_channel_is_suppressed_as_opted_out() -> None:
    result = plan(
        c=customer(
            email=ChannelState("maija@example.com", consent=False),
            sms=ChannelState(None),
        )
    )
    assert result.suppressed
    assert result.reason == rules.OPTED_OUT


@pytest.mark.parametrize(
    ("email", "sms", "reason"),
    [
        (ChannelState(None), ChannelState(None), rules.NO_CONTACT_POINT),
        (
            ChannelState(None, given_but_invalid=True),
            ChannelState(None),
            rules.INVALID_CONTACT_POINT,
        ),
    ],
)
def test_missing_or_invalid_contact_points(
    email: ChannelState, sms: ChannelState, reason: str
) -> None:
    result = plan(c=customer(email=email, sms=sms))
    assert result.suppressed
    assert result.reason == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("maija@Example.COM", "maija@example.com"),
        (" maija@example.com ", "maija@example.com"),
        ("maija.example.com", None),
        ("maija@@example.com", None),
        ("maija@example", None),
        ("", None),
        (None, None),
    ],
)
def test_email_normalization(raw: str | None, expected: str | None) -> None:
    assert rules.normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+358401234567", "+358401234567"),
        ("+358 40 123 4567", "+358401234567"),
        ("00358-40-123-4567", "+358401234567"),
        ("040 123 4567", None),  # no country code: ambiguous, never guessed
        ("+358abc", None),
        ("+0401234567", None),
    ],
)
def test_phone_normalization(raw: str, expected: str | None) -> None:
    assert rules.normalize_phone(raw) == expected


# ---------------------------------------------------------------- sampling


def test_sampling_is_stable_per_customer_and_survey() -> None:
    outcomes = {rules.sampled("cust-7", "service-contact", 0.5) for _ in range(100)}
    assert len(outcomes) == 1


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_sampling_rate_zero_and_one_are_absolute(customer_id: str) -> None:
    assert rules.sampled(customer_id, "s", 1.0)
    assert not rules.sampled(customer_id, "s", 0.0)


def test_sampling_keeps_about_the_rate_and_differs_between_surveys() -> None:
    ids = [f"cust-{n}" for n in range(4000)]
    kept = [i for i in ids if rules.sampled(i, "service-contact", 0.25)]
    assert 900 <= len(kept) <= 1100
    other = {i for i in ids if rules.sampled(i, "post-purchase", 0.25)}
    assert set(kept) != other


def test_a_customer_outside_the_sample_is_suppressed() -> None:
    never = survey(sampling=0.0)
    assert plan(s=never).reason == rules.NOT_SAMPLED


# ---------------------------------------------------------------- fatigue


def test_fatigue_boundary_exactly_n_days_after_the_last_contact_is_allowed() -> None:
    last = NOON - timedelta(days=14)
    result = plan(c=customer(last_contact_at=last))
    assert result.send_at == NOON
    assert result.reason is None


def test_one_second_inside_the_fatigue_window_defers_to_its_end() -> None:
    last = NOON - timedelta(days=14) + timedelta(seconds=1)
    result = plan(c=customer(last_contact_at=last))
    assert result.send_at == NOON + timedelta(seconds=1)
    assert result.reason == rules.FATIGUE_DEFERRED


def test_deferral_up_to_the_maximum_is_kept_and_beyond_it_dropped() -> None:
    # max 7 days: a contact 7 days ago (14-day rule) defers by exactly 7 days: kept
    kept = plan(c=customer(last_contact_at=NOON - timedelta(days=7)))
    assert kept.reason == rules.FATIGUE_DEFERRED
    assert kept.send_at == NOON + timedelta(days=7)
    dropped = plan(c=customer(last_contact_at=NOON - timedelta(days=7) + timedelta(seconds=1)))
    assert dropped.suppressed
    assert dropped.reason == rules.FATIGUE_LIMIT


def test_a_planned_future_contact_counts_too() -> None:
    # Another survey's reminder is planned for tomorrow: 14 days from then.
    result = plan(c=customer(last_contact_at=NOON + timedelta(days=1)))
    assert result.reason == rules.FATIGUE_LIMIT  # 15 days away > 7 days of deferral


def test_the_per_survey_override_applies() -> None:
    result = plan(s=survey(fatigue_days=7), c=customer(last_contact_at=NOON - timedelta(days=7)))
    assert result.send_at == NOON
    assert result.reason is None


def test_a_deferred_send_still_respects_quiet_hours() -> None:
    # The fatigue window ends at 23:00 local: the send waits for 08:00 next morning.
    last = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)  # 23:00 Helsinki
    result = plan(c=customer(last_contact_at=last))
    assert result.send_at == datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # 08:00 Helsinki
    assert result.reason == rules.FATIGUE_DEFERRED


# ---------------------------------------------------------------- quiet hours


def _at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("local", "opens"),
    [
        (_at(16, 20, 59), _at(16, 20, 59)),  # a minute before: sent
        (_at(16, 21, 0), _at(17, 8, 0)),  # the window starts: next morning
        (_at(16, 23, 30), _at(17, 8, 0)),  # before midnight
        (_at(17, 0, 0), _at(17, 8, 0)),  # at midnight
        (_at(17, 3, 15), _at(17, 8, 0)),  # after midnight
        (_at(17, 7, 59), _at(17, 8, 0)),
        (_at(17, 8, 0), _at(17, 8, 0)),  # the window has ended
    ],
)
def test_quiet_hours_across_midnight(local: datetime, opens: datetime) -> None:
    assert rules.outside_quiet_hours(local.astimezone(UTC), HELSINKI, QUIET) == opens


def test_quiet_hours_use_the_customers_time_zone() -> None:
    # 06:00 UTC is 08:00 in Helsinki (sent) but 07:00 in Stockholm (waits an hour).
    moment = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    assert rules.outside_quiet_hours(moment, HELSINKI, QUIET) == moment
    stockholm = ZoneInfo("Europe/Stockholm")
    assert rules.outside_quiet_hours(moment, stockholm, QUIET) == moment + timedelta(hours=1)
    result = plan(c=customer(time_zone="Europe/Stockholm"), now=moment)
    assert result.reason == rules.QUIET_HOURS
    assert result.send_at == moment + timedelta(hours=1)


def test_an_unknown_customer_time_zone_falls_back_to_the_catalogue() -> None:
    moment = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # 08:00 Helsinki
    assert plan(c=customer(time_zone="Mars/Olympus"), now=moment).send_at == moment


def test_quiet_hours_across_the_spring_daylight_saving_change() -> None:
    # 29 Mar 2026 03:00 EET -> 04:00 EEST. At 22:00 EET on the 28th, 08:00 EEST is 05:00 UTC:
    # 9 hours later, not 10.
    evening = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # 22:00 EET
    opens = rules.outside_quiet_hours(evening, HELSINKI, QUIET)
    assert opens == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert opens.astimezone(HELSINKI).hour == 8


def test_quiet_hours_across_the_autumn_daylight_saving_change() -> None:
    # 25 Oct 2026 04:00 EEST -> 03:00 EET. At 22:00 EEST on the 24th, 08:00 EET is 06:00 UTC.
    evening = datetime(2026, 10, 24, 19, 0, tzinfo=UTC)  # 22:00 EEST
    opens = rules.outside_quiet_hours(evening, HELSINKI, QUIET)
    assert opens == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert opens.astimezone(HELSINKI).hour == 8


def test_a_window_ending_at_a_skipped_local_time_opens_at_the_change() -> None:
    # Quiet 01:00-03:30; on 29 Mar 2026 local 03:30 does not exist (03:00 -> 04:00).
    quiet = Window(time(1), time(3, 30))
    inside = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 02:30 EET
    opens = rules.outside_quiet_hours(inside, HELSINKI, quiet)
    assert opens == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 04:00 EEST, the first instant
    assert not quiet.contains(opens.astimezone(HELSINKI).time())


def test_a_window_ending_at_a_repeated_local_time_opens_at_its_first_occurrence() -> None:
    # Quiet 01:00-03:30; on 25 Oct 2026 local 03:30 happens twice (EEST, then EET).
    quiet = Window(time(1), time(3, 30))
    inside = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 02:00 EEST
    opens = rules.outside_quiet_hours(inside, HELSINKI, quiet)
    assert opens == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST


def test_a_daytime_window_is_handled_too() -> None:
    lunch = Window(time(12), time(13))
    assert rules.outside_quiet_hours(NOON, HELSINKI, lunch) == _at(16, 13).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/Helsinki", "America/New_York", "Australia/Lord_Howe", "UTC"]),
)
def test_a_send_never_falls_inside_quiet_hours_and_never_goes_back(
    moment: datetime, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    opens = rules.outside_quiet_hours(moment, zone, QUIET)
    assert opens >= moment
    assert not QUIET.contains(opens.astimezone(zone).time().replace(tzinfo=None))
    assert opens - moment <= timedelta(hours=12)
