"""The channel ladder through the real template and ASL on the local stack.

post-purchase's ladder: an email, an SMS reminder 24 h later, a last email 72 h after that;
open 72 h more. Every scenario is its own customer, and all run at once on one stack on virtual
time: the clock stands still while the customers react (a minute after each message) and then
jumps to the next deadline, so the whole seven-day ladder takes about 20 s and the outcome does
not depend on the machine's load. (On a scaled clock at 3,600x it took about 170 s, and at
7,200x a loaded machine handled the bounced invitation's SMS fallback after the first
reminder's rung and failed.)
"""

from collections.abc import Iterator

import pytest

from infra.local.ladder import Outcome, Script, run_scripts
from infra.local.process import running_stack

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki
SCRIPTS = [
    Script("both channels, never answered"),
    Script("email only", phone=False),
    Script("SMS only", email=False),
    Script("SMS opted out", sms_consent=False),
    Script("answered before the first reminder", answer_after=1),
    Script("answered after the first reminder", answer_after=2),
    Script("email opted out mid-ladder", opt_out_email_after=1),
    Script("invitation email bounced", bounce_first_email=True),
    Script("SES and SNS throttled", throttle=4),
    Script("email refused, no phone", phone=False, refuse_email=True),
    Script("email-only invitation bounced", phone=False, bounce_first_email=True),
    Script("answered by SMS reply", sms_replies=("8 nopea toimitus",)),
    Script("unreadable SMS replies", sms_replies=("kiitos", "ok?")),
    Script("SMS reminder failing for good", fail_sms="AuthorizationError"),
]


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, Outcome]]:
    with running_stack(
        time_scale=3600, start_time=START, log_name="ladder.log", virtual_time=True
    ) as info:
        yield run_scripts(info, SCRIPTS)


def _counts(outcome: Outcome) -> tuple[int, int]:
    return len(outcome.emails), len(outcome.sms)


@pytest.mark.parametrize(
    ("name", "emails", "sms", "status"),
    [
        ("both channels, never answered", 2, 1, "expired"),
        ("email only", 2, 0, "expired"),
        ("SMS only", 0, 1, "expired"),
        ("SMS opted out", 2, 0, "expired"),
        ("answered before the first reminder", 1, 0, "answered"),
        ("answered after the first reminder", 1, 1, "answered"),
        ("email opted out mid-ladder", 1, 1, "expired"),
        ("invitation email bounced", 1, 2, "expired"),
        ("SES and SNS throttled", 2, 1, "expired"),
        ("email refused, no phone", 0, 0, "failed"),
        ("email-only invitation bounced", 1, 0, "failed"),
        ("answered by SMS reply", 1, 1, "answered"),
        ("unreadable SMS replies", 2, 2, "expired"),
    ],
)
def test_exactly_the_expected_messages_reach_each_customer(
    outcomes: dict[str, Outcome], name: str, emails: int, sms: int, status: str
) -> None:
    outcome = outcomes[name]
    assert _counts(outcome) == (emails, sms)
    assert outcome.status == status
    assert outcome.execution == ("FAILED" if status == "failed" else "SUCCEEDED")


def test_the_ladder_sends_invitation_reminder_and_last_reminder(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["both channels, never answered"]
    first, last = outcome.emails
    assert first["subject"] == "Miten onnistuimme? Kerro mielipiteesi - Example Oy"
    assert last["subject"] == "Viimeinen muistutus: miten onnistuimme? - Example Oy"
    assert outcome.sms[0]["text"].startswith("Muistutus: arvioi Example Oy 0-10")
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["tags"] == {"invitation": outcome.invitation_id, "rung": "0"}
    assert first["configurationSet"] == "feedback-surveys"
    # Three rungs, and the expiry schedule ends the last wait: 1 + rungs transitions for a
    # survey never answered (the budget is 4)
    assert outcome.states == ["WaitForSendTime", "SendRung", "SendRung", "SendRung"]
    assert outcome.transitions == 4


def test_an_answer_stops_the_ladder_within_the_transition_budget(
    outcomes: dict[str, Outcome],
) -> None:
    # An answer ends the execution at once; after the first reminder it has cost 3
    # transitions (the budget is 4), before it 2.
    before = outcomes["answered before the first reminder"]
    after = outcomes["answered after the first reminder"]
    assert before.states == ["WaitForSendTime", "SendRung"]
    assert after.states == ["WaitForSendTime", "SendRung", "SendRung"]
    assert (before.transitions, after.transitions) == (2, 3)


def test_a_channel_the_customer_lacks_or_refused_is_never_used(
    outcomes: dict[str, Outcome],
) -> None:
    # The unusable rungs are left out of the plan: nothing is sent there, nothing skipped.
    assert outcomes["SMS opted out"].sms == []
    sms_only = outcomes["SMS only"]
    assert sms_only.sms[0]["text"].startswith("Miten onnistuimme?")  # the SMS invites
    assert [a["channel"] for a in sms_only.attempts] == ["sms"]


def test_an_opt_out_mid_ladder_skips_the_rest_of_that_channel(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["email opted out mid-ladder"]
    assert [(a["rung"], a["channel"], a["outcome"]) for a in outcome.attempts] == [
        ("0", "email", "sent"),
        ("1", "sms", "sent"),
        ("2", "none", "skipped"),
    ]
    assert outcome.attempts[-1]["reason"] == "opted-out"


def test_a_bounced_invitation_is_resent_by_sms_and_email_is_not_used_again(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["invitation email bounced"]
    assert [(a["rung"], a["channel"], a["outcome"], a["fallback"]) for a in outcome.attempts] == [
        ("0", "email", "bounced", "False"),
        ("0", "sms", "sent", "True"),
        ("1", "sms", "sent", "False"),
        ("2", "none", "skipped", "False"),
    ]
    fallback, reminder = outcome.sms
    assert fallback["text"].startswith("Miten onnistuimme?")  # it invites: no email arrived
    assert reminder["text"].startswith("Muistutus:")
    assert "WaitForFallback" in outcome.states


def test_throttled_sends_are_retried_and_delivered_once(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["SES and SNS throttled"]
    # Four throttles per channel outlast the SDK's three attempts: the lifecycle's Retry
    # (backoff with jitter) ran the rung again, and each message still went out once.
    assert outcome.retries >= 2
    assert [(a["channel"], a["outcome"]) for a in outcome.attempts] == [
        ("email", "sent"),
        ("sms", "sent"),
        ("email", "sent"),
    ]


def test_an_invitation_nothing_can_carry_is_marked_failed_with_the_reason(
    outcomes: dict[str, Outcome],
) -> None:
    refused = outcomes["email refused, no phone"]
    assert refused.failure_reason == "DeliveryFailed"
    assert [(a["channel"], a["outcome"], a["reason"]) for a in refused.attempts] == [
        ("email", "failed", "MessageRejected")
    ]
    assert refused.states[-2:] == ["MarkFailed", "SurveyFailed"]
    # A bounce with no other channel: the delivery function ends the wait with the reason.
    bounced = outcomes["email-only invitation bounced"]
    assert bounced.failure_reason == "DeliveryFailed"
    assert [(a["channel"], a["outcome"]) for a in bounced.attempts] == [("email", "bounced")]
    assert bounced.states[-2:] == ["MarkFailed", "SurveyFailed"]


def test_a_reminder_that_fails_after_the_invitation_went_out_leaves_the_survey_open(
    outcomes: dict[str, Outcome],
) -> None:
    # The invitation email went out; the SMS reminder fails for good (the stack's problem)
    outcome = outcomes["SMS reminder failing for good"]
    assert _counts(outcome) == (1, 0)
    # The lifecycle stops with the reason recorded, but the survey is not failed: the customer
    # got its link, which answers until the survey closes (the stack's clock has long passed
    # that by now; tests/integration/test_send.py opens such a link)
    assert outcome.states[-3:] == ["MarkFailed", "RecordFailureReason", "SendingStopped"]
    assert outcome.execution == "FAILED"
    assert (outcome.status, outcome.failure_reason) == ("sent", "AuthorizationErrorException")
    assert [(a["rung"], a["channel"], a["outcome"]) for a in outcome.attempts] == [
        ("0", "email", "sent")
    ]


def test_never_answered_surveys_expire_and_say_so(outcomes: dict[str, Outcome]) -> None:
    # The expiry schedule (the send function called back when the survey closes) expires the
    # survey, announces it once and ends the last wait: the execution succeeds with no state
    # of its own for it, and never reaches the backstop's expiry step
    expired = [o for o in outcomes.values() if o.status == "expired"]
    assert len(expired) == 8
    for outcome in expired:
        assert outcome.announced[-1] == "Survey Expired", outcome.script.name
        assert outcome.announced.count("Survey Expired") == 1, outcome.script.name
        assert outcome.execution == "SUCCEEDED", outcome.script.name
        # every SendRung entered sent, skipped or resent a rung: none was an expiry step
        assert outcome.states.count("SendRung") == len(outcome.attempts), outcome.script.name
    # and a survey that did not expire never says it did
    others = [o for o in outcomes.values() if o.status != "expired"]
    assert others and all("Survey Expired" not in o.announced for o in others)


def test_an_sms_reply_answers_and_ends_the_ladder(outcomes: dict[str, Outcome]) -> None:
    # A score texted back after the SMS reminder is stored with its comment; no last email.
    outcome = outcomes["answered by SMS reply"]
    assert outcome.response == {"channel": "sms", "score": "8", "comment": "nopea toimitus"}
    assert outcome.states == ["WaitForSendTime", "SendRung", "SendRung"]


def test_unreadable_sms_replies_get_one_help_reply_and_the_ladder_goes_on(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["unreadable SMS replies"]
    reminder, help_reply = outcome.sms
    assert reminder["text"].startswith("Muistutus:")
    assert help_reply["text"].startswith("Emme saaneet vastauksesta selvää.")
    assert outcome.response == {}
