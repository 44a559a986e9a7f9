"""Pure parts of the use cases: decisions that need no AWS."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from survey_core.domain.counters import combination_key, histogram_moves
from survey_core.domain.customers import Customer
from survey_core.domain.invitations import Attempt, Invitation
from survey_core.domain.suppressions import address_key
from survey_core.errors import InvalidAnswer
from survey_core.logic.channels import RungChannels, customer_facts, rung_channels
from survey_core.logic.collect import link_choice, parse_comment, parse_score
from survey_core.logic.counting import answer_counts, answered_after, counter_view
from survey_core.logic.escalate import task_request
from survey_core.logic.optout import opt_out_keys
from survey_core.report.config import load_groups

pytestmark = pytest.mark.unit
HELSINKI = ZoneInfo("Europe/Helsinki")


def _customer(email: str | None = "a@example.com", phone: str | None = "+358401234567", **kw):
    return Customer("c", email=email, phone=phone, language="fi", updated_at="x", **kw)


def _invitation(channels: list[str]) -> Invitation:
    return Invitation("i", channels=channels)


LADDER = ["email", "sms", "email"]


@pytest.mark.parametrize(
    ("customer", "suppressed", "rung", "fallback", "candidates", "skipped_because"),
    [
        # The invitation tries its planned channel, then the ladder's other usable ones.
        (_customer(), {}, 0, None, ("email", "sms"), None),
        (_customer(), {}, 1, None, ("sms",), None),
        (_customer(), {}, 2, None, ("email",), None),
        (_customer(email=None), {}, 0, None, ("sms",), "no-contact-point"),
        # A reminder whose channel is out is skipped, whatever the reason.
        (_customer(phone=None), {}, 1, None, (), "no-contact-point"),
        (_customer(consent_sms=False), {}, 1, None, (), "opted-out"),
        (_customer(), {"email": "unsubscribed"}, 2, None, (), "opted-out"),
        (_customer(), {"email": "complained"}, 2, None, (), "opted-out"),
        (_customer(), {"email": "bounced"}, 2, None, (), "bounced"),
        # A fallback (a bounced rung resent) uses its own channel only.
        (_customer(), {}, 0, "sms", ("sms",), None),
        (_customer(), {"sms": "stop-reply"}, 2, "sms", (), "opted-out"),
        (_customer(), {}, 3, None, (), "not-planned"),
    ],
)
def test_rung_channels(
    customer: Customer,
    suppressed: dict[str, str],
    rung: int,
    fallback: str | None,
    candidates: tuple[str, ...],
    skipped_because: str | None,
) -> None:
    choice = rung_channels(
        _invitation(LADDER), rung, fallback, customer_facts(customer, suppressed)
    )
    assert choice == RungChannels(candidates, skipped_because)


@pytest.mark.parametrize(("raw", "score"), [("0", 0), ("10", 10), (" 7 ", 7)])
def test_scores_within_the_scale_are_accepted(raw: str, score: int) -> None:
    assert parse_score("nps", raw) == score


@pytest.mark.parametrize(
    ("metric", "raw", "reason"),
    [
        ("nps", None, "missing-score"),
        ("nps", "", "missing-score"),
        ("nps", "ten", "missing-score"),
        ("nps", "11", "score-out-of-range"),
        ("nps", "-1", "score-out-of-range"),
        ("csat", "0", "score-out-of-range"),
        ("ces", "8", "score-out-of-range"),
        ("nps", "9.5", "missing-score"),
    ],
)
def test_bad_scores_are_refused_with_a_reason(metric: str, raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidAnswer, match=reason):
        parse_score(metric, raw)


@pytest.mark.parametrize(
    ("metric", "raw", "chosen"),
    [
        ("nps", "0", 0),
        ("nps", "10", 10),
        ("csat", "5", 5),
        ("ces", "7", 7),
        # A link that names no score on the scale chooses nothing: the page still opens.
        ("nps", None, None),
        ("nps", "", None),
        ("nps", "11", None),
        ("nps", "-1", None),
        ("csat", "0", None),
        ("ces", "8", None),
        ("nps", "ten", None),
        ("nps", "9.5", None),
        ("nps", "\u00b2", None),  # a superscript two: str.isdigit says yes, int() says no
        ("nps", "9" * 5000, None),
    ],
)
def test_a_one_tap_link_chooses_its_score_or_nothing(
    metric: str, raw: str | None, chosen: int | None
) -> None:
    assert link_choice(metric, raw) == chosen


def test_comments_are_kept_literally_and_capped() -> None:
    assert parse_comment("  <b>hyvä</b> palvelu  ") == "<b>hyvä</b> palvelu"
    assert parse_comment("   ") is None
    assert parse_comment("ä" * 1000) == "ä" * 1000
    with pytest.raises(InvalidAnswer, match="comment-too-long"):
        parse_comment("x" * 1001)


def test_one_counter_per_combination_adds_up_to_every_segment_key_and_scope() -> None:
    # Given three counters of one day: two combinations in the webshop, one in a store
    webshop_checkout = {"touchpoint": "checkout", "businessArea": "webshop", "agentId": ""}
    webshop_returns = {"businessArea": "webshop", "touchpoint": "returns", "storeId": "s1"}
    store = {"businessArea": "store", "touchpoint": "checkout"}
    records = [
        ("2026-11-16", webshop_checkout, {"n": 2, "s9": 2}),
        ("2026-11-16", webshop_returns, {"n": 1, "s3": 1}),
        ("2026-11-16", store, {"n": 1, "s9": 1}),
    ]
    # When they are read as a whole and within the webshop's scope
    whole = {key: counts for _, key, counts in counter_view(records)}
    webshop = {key: counts for _, key, counts in counter_view(records, "businessArea", "webshop")}
    # Then every segment key is the sum of the combinations that have it (empty values are none)
    assert whole == {
        "all": {"n": 4, "s9": 3, "s3": 1},
        "businessArea=store": {"n": 1, "s9": 1},
        "businessArea=webshop": {"n": 3, "s9": 2, "s3": 1},
        "storeId=s1": {"n": 1, "s3": 1},
        "touchpoint=checkout": {"n": 3, "s9": 3},
        "touchpoint=returns": {"n": 1, "s3": 1},
    }
    # and a scope holds only its own combinations, by the other attributes
    assert webshop == {
        "all": {"n": 3, "s9": 2, "s3": 1},
        "storeId=s1": {"n": 1, "s3": 1},
        "touchpoint=checkout": {"n": 2, "s9": 2},
        "touchpoint=returns": {"n": 1, "s3": 1},
    }


def test_a_combination_is_named_by_its_values_whatever_their_order_or_characters() -> None:
    assert combination_key({"a": "1", "b": "2"}) == combination_key({"b": "2", "a": "1", "c": ""})
    # values may hold any separator: "a=1|b" and "2" must not be "a=1" and "b=2"
    assert combination_key({"a": "1|b=2"}) != combination_key({"a": "1", "b": "2"})
    assert len(combination_key({})) == 24


@pytest.mark.parametrize(
    ("old", "new", "moves"),
    [
        ({}, {"nps": 9}, [("nps", None, 9)]),  # first answer: one new count
        ({"nps": 9}, {"nps": 3}, [("nps", 9, 3)]),  # changed: move one count
        ({"nps": 9}, {"nps": 9}, []),  # same again: nothing moves
    ],
)
def test_histogram_moves(old: dict, new: dict, moves: list) -> None:
    assert histogram_moves(old, new) == moves


def test_task_request_names_score_segment_and_comment() -> None:
    detail = {
        "invitationId": "inv-1",
        "surveyId": "post-purchase",
        "customerId": "cust-1",
        "answeredAt": "2026-11-16T10:00:00Z",
        "channel": "sms",
        "scores": {"nps": 2},
        "segment": {"businessArea": "webshop", "agentId": "agent-7"},
    }
    request = task_request(detail, "Paketti hukassa", ["nps 2 <= 6"], None)
    assert request["name"] == "Callback: NPS 2 (post-purchase)"
    assert "Business area: webshop" in request["description"]
    assert "Agent: agent-7" in request["description"]
    assert "Comment: Paketti hukassa" in request["description"]
    assert request["attributes"]["score"] == "2"
    assert request["attributes"]["businessArea"] == "webshop"
    assert request["client_token"] == "escalation-inv-1"
    assert request["references"] == {}


def test_task_request_stays_inside_connects_limits() -> None:
    detail = {
        "invitationId": "inv-1",
        "surveyId": "s" * 60,
        "customerId": "cust-1",
        "answeredAt": "2026-11-16T10:00:00Z",
        "channel": "web",
        "scores": {"csat": 1, "ces": 1},
        "segment": {f"k{n}": "v" * 200 for n in range(30)},
    }
    request = task_request(detail, "x" * 5000, ["csat 1 <= 2", "ces 1 <= 3"], None)
    assert len(request["name"]) <= 512
    assert len(request["description"]) <= 4096
    assert request["name"] == f"Callback: CSAT 1, CES 1 ({'s' * 60})"


@pytest.mark.parametrize(
    ("fired", "first", "last"),
    [
        # Monday 07:00 Helsinki (05:00 UTC): the week before
        (datetime(2026, 11, 23, 5, 0, tzinfo=UTC), date(2026, 11, 16), date(2026, 11, 22)),
        # Sunday 23:30 UTC is already Monday 01:30 in Helsinki: still the week before
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), date(2026, 11, 16), date(2026, 11, 22)),
        # across the end of summer time (25 Oct 2026): a full Monday-to-Sunday local week
        (datetime(2026, 10, 26, 5, 0, tzinfo=UTC), date(2026, 10, 19), date(2026, 10, 25)),
    ],
)
def test_report_period_is_the_previous_local_week(fired: datetime, first: date, last: date) -> None:
    leadership = load_groups()[0]  # weekly, Europe/Helsinki
    period = leadership.period(fired.astimezone(HELSINKI).date())
    assert (period.first_day, period.last_day) == (first, last)


def _sent(channel: str, outcome: str, key: str | None) -> Attempt:
    attempt = Attempt(
        rung=0, channel=channel, outcome=outcome, at="2026-11-16T10:00:00Z", address_key=key
    )
    return attempt


OLD_EMAIL, NEW_EMAIL = (
    address_key("email", "old@example.com"),
    address_key("email", "a@example.com"),
)
OLD_PHONE = address_key("sms", "+358409998877")
NEW_PHONE = address_key("sms", "+358401234567")


@pytest.mark.parametrize(
    ("attempts", "customer", "keys"),
    [
        # Each channel the invitation sent on: the addresses it went to, not the current ones.
        ([_sent("email", "sent", OLD_EMAIL), _sent("sms", "sent", OLD_PHONE)], _customer(),
         {"email": [OLD_EMAIL], "sms": [OLD_PHONE]}),
        # A message whose record failed ("sending") may have carried the link.
        ([_sent("email", "sending", OLD_EMAIL)], _customer(phone=None), {"email": [OLD_EMAIL]}),
        # The link is the same in every message: every address it reached (a complaint did).
        ([_sent("email", "sent", OLD_EMAIL), _sent("email", "complained", NEW_EMAIL)],
         _customer(phone=None), {"email": [OLD_EMAIL, NEW_EMAIL]}),
        # A refused or bounced email reached nobody; then the current address counts.
        ([_sent("email", "failed", OLD_EMAIL), _sent("email", "bounced", OLD_EMAIL)],
         _customer(phone=None), {"email": [NEW_EMAIL]}),
        # Nothing sent on a channel, or an old message without a key: the current address.
        ([], _customer(), {"email": [NEW_EMAIL], "sms": [NEW_PHONE]}),
        ([_sent("email", "sent", None)], _customer(phone=None), {"email": [NEW_EMAIL]}),
        ([_sent("email", "sent", None), _sent("email", "sent", OLD_EMAIL)],
         _customer(phone=None), {"email": [OLD_EMAIL, NEW_EMAIL]}),
        # Erased customer: only what the invitation itself knows.
        ([_sent("sms", "sent", OLD_PHONE)], None, {"sms": [OLD_PHONE]}),
        ([], None, {}),
    ],
)  # fmt: skip
def test_an_opt_out_suppresses_the_addresses_the_invitation_reached(
    attempts: list[Attempt], customer: Customer | None, keys: dict[str, list[str]]
) -> None:
    invitation = Invitation("i", channels=LADDER, attempts=attempts)
    assert opt_out_keys(invitation, customer) == keys


def _answered(attempts: list[tuple[int, str, str]]) -> Invitation:
    return Invitation(
        "i",
        attempts=[
            Attempt(rung=r, channel=c, outcome=o, at="2026-11-16T10:00:00Z") for r, c, o in attempts
        ],
    )


@pytest.mark.parametrize(
    ("attempts", "answered_by", "via", "step", "counts"),
    [
        # on the page, after the invitation email
        ([(0, "email", "sent")], "web", "email", 0, {"via_email": 1}),
        # on the page, through the SMS reminder's link
        ([(0, "email", "sent"), (1, "sms", "sent")], "web", "sms", 1,
         {"via_sms": 1, "after_reminder": 1}),
        # by SMS reply, although the last message was an email
        ([(0, "sms", "sent"), (1, "email", "sent")], "sms", "sms", 1,
         {"via_sms": 1, "after_reminder": 1}),
        # the reminder was refused: the answer came after the invitation
        ([(0, "email", "sent"), (1, "sms", "failed")], "web", "email", 0, {"via_email": 1}),
        # no message reached the customer (an answer through a forwarded link)
        ([(0, "email", "failed")], "web", None, None, {}),
    ],
)  # fmt: skip
def test_an_answer_knows_the_channel_and_the_step_it_came_after(
    attempts: list[tuple[int, str, str]],
    answered_by: str,
    via: str | None,
    step: int | None,
    counts: dict[str, int],
) -> None:
    after = answered_after(_answered(attempts), answered_by)
    # the lake's answered_via / after_step and the report's counters say the same
    assert (after.via, after.step) == (via, step)
    assert answer_counts(after) == counts
