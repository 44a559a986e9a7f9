"""Pure parts of sending and of its feedback: SMS sizes, the MIME message, form bodies, SES
events, message kinds, the lifecycle's input. No AWS (the SNS request is checked by
botocore's Stubber against the real API model)."""

import email
import json
from email.policy import default as default_policy
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from survey_core.dal.gateways import SmsSender
from survey_core.domain.invitations import Attempt, Invitation
from survey_core.logic.delivery import EmailFeedback, MalformedFeedback
from survey_core.logic.send import message_kind
from survey_core.logic.trigger import (
    EXPIRY_BACKSTOP_SECONDS,
    EXPIRY_STEP_SECONDS,
    lifecycle_input,
)
from survey_core.messages.email import compose_email
from survey_core.messages.rendering import RenderedEmail
from survey_core.messages.sms import SmsSize, sms_size
from survey_core.web.forms import parse_form

pytestmark = pytest.mark.unit
EVENTS = Path(__file__).resolve().parents[2] / "events"


# ---------------------------------------------------------------- SMS segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, SmsSize("GSM-7", 160, 1)),
        ("a" * 161, SmsSize("GSM-7", 161, 2)),  # a long message: 153 septets a part
        ("a" * 306, SmsSize("GSM-7", 306, 2)),
        ("a" * 307, SmsSize("GSM-7", 307, 3)),
        ("Hyvää päivää, Åsa! Ölandia? €", SmsSize("GSM-7", 30, 1)),  # € is two septets
        ("{}" * 80, SmsSize("GSM-7", 320, 3)),  # extension characters count double
        ("Łódź", SmsSize("UCS-2", 4, 1)),
        ("ł" * 70, SmsSize("UCS-2", 70, 1)),
        ("ł" * 71, SmsSize("UCS-2", 71, 2)),  # 67 units a part
        ("😀" * 35, SmsSize("UCS-2", 70, 1)),  # outside the BMP: two units each
        ("😀" * 36, SmsSize("UCS-2", 72, 2)),
    ],
)
def test_sms_size(text: str, expected: SmsSize) -> None:
    assert sms_size(text) == expected


# ---------------------------------------------------------------- the MIME message


def test_the_survey_email_has_both_parts_and_the_one_click_unsubscribe_headers() -> None:
    rendered = RenderedEmail("Miten onnistuimme? – Esimerkki Oy", "<p>Hei</p>", "Hei")
    raw = compose_email(
        sender="surveys@example.com",
        sender_name="Esimerkki Oy",
        to=["maija@example.com"],
        email=rendered,
        unsubscribe_url="https://s.example.fi/u/tok",
    )
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "Miten onnistuimme? – Esimerkki Oy"  # RFC 2047 round trip
    assert message["From"] == "Esimerkki Oy <surveys@example.com>"
    assert message["List-Unsubscribe"] == "<https://s.example.fi/u/tok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Hei"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hei</p>"
    assert raw.isascii()  # 8-bit text is transfer-encoded for any mail server


def test_a_report_email_has_no_unsubscribe_headers() -> None:
    raw = compose_email(
        sender="surveys@example.com",
        sender_name=None,
        to=["a@example.com", "b@example.com"],
        email=RenderedEmail("Report", "<p>x</p>", "x"),
    )
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["To"] == "a@example.com, b@example.com"
    assert message["List-Unsubscribe"] is None


# ---------------------------------------------------------------- form bodies


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b"channel=email&channel=sms",
            "application/x-www-form-urlencoded",
            {"channel": ["email", "sms"]},
        ),
        (
            b"comment=%3Cb%3E+%C3%A4",
            "application/x-www-form-urlencoded; charset=utf-8",
            {"comment": ["<b> ä"]},
        ),
        (b"score=", "application/x-www-form-urlencoded", {"score": [""]}),
        (b"", "application/x-www-form-urlencoded", {}),
        (
            b'--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            b"One-Click\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
            {"List-Unsubscribe": ["One-Click"]},
        ),
        (b"not multipart at all", "multipart/form-data; boundary=b", {}),
        (b"&".join(b"f%d=1" % i for i in range(100)), "application/x-www-form-urlencoded", {}),
    ],
)
def test_form_bodies(body: bytes, content_type: str, expected: dict[str, list[str]]) -> None:
    assert parse_form(body, content_type) == expected


# ---------------------------------------------------------------- SES events


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_a_hard_bounce_is_permanent_and_names_the_invitation() -> None:
    feedback = EmailFeedback.from_event(_event("aws/ses-email-bounced.json"))
    assert (feedback.kind, feedback.permanent) == ("bounce", True)
    assert feedback.invitation_id == "5d41402abc4b2a76b9719d911017c592"
    assert feedback.recipients == ("maija.meikalainen@example.com",)
    assert feedback.at.isoformat() == "2026-11-16T10:00:04.512000+00:00"


@pytest.mark.parametrize(
    ("name", "change", "kind", "permanent"),
    [
        ("aws/ses-email-bounced.json", {"bounceType": "Transient"}, "bounce", False),
        ("aws/ses-email-bounced.json", {"bounceType": "Undetermined"}, "bounce", False),
        ("aws/ses-email-complaint.json", {}, "complaint", True),
        ("aws/ses-email-complaint.json", {"complaintFeedbackType": "not-spam"}, "complaint", False),
    ],
)
def test_what_suppresses_an_address(name: str, change: dict, kind: str, permanent: bool) -> None:
    event = _event(name)
    event["detail"][event["detail"]["eventType"].lower()].update(change)
    feedback = EmailFeedback.from_event(event)
    assert (feedback.kind, feedback.permanent) == (kind, permanent)


def test_mail_that_is_not_a_surveys_has_no_invitation() -> None:
    event = _event("aws/ses-email-bounced.json")
    del event["detail"]["mail"]["tags"]["invitation"]
    assert EmailFeedback.from_event(event).invitation_id is None


@pytest.mark.parametrize(
    "breaks",
    [
        lambda d: d.pop("mail"),
        lambda d: d["bounce"].pop("bouncedRecipients"),
        lambda d: d.update(eventType="Delivery"),
        lambda d: d["bounce"].update(timestamp="yesterday"),
    ],
)
def test_an_event_without_what_is_needed_is_malformed(breaks) -> None:
    event = _event("aws/ses-email-bounced.json")
    breaks(event["detail"])
    with pytest.raises(MalformedFeedback):
        EmailFeedback.from_event(event)


# ---------------------------------------------------------------- message kinds and lifecycle


def _invitation(channels: list[str], outcomes: list[str]) -> Invitation:
    attempts = [
        Attempt(rung=i, channel=channels[min(i, len(channels) - 1)], outcome=o, at="x")
        for i, o in enumerate(outcomes)
    ]
    return Invitation("i", channels=channels, attempts=attempts)


@pytest.mark.parametrize(
    ("channels", "outcomes", "rung", "kind"),
    [
        (["email", "sms", "email"], [], 0, "invitation"),
        (["email", "sms", "email"], ["sent"], 1, "reminder"),
        (["email", "sms", "email"], ["sent", "sent"], 2, "last-reminder"),
        (["email", "sms"], ["sent"], 1, "last-reminder"),
        # the invitation bounced: its SMS fallback (rung 0) and a later rung still invite
        (["email", "sms", "email"], ["bounced"], 0, "invitation"),
        (["email", "sms", "email"], ["bounced"], 1, "invitation"),
        (["email", "sms", "email"], ["skipped", "sent"], 2, "last-reminder"),
    ],
)
def test_message_kind(channels: list[str], outcomes: list[str], rung: int, kind: str) -> None:
    assert message_kind(_invitation(channels, outcomes), rung) == kind


def test_the_lifecycle_waits_each_rung_until_the_next_is_due_then_until_closing() -> None:
    invitation = Invitation(
        "i",
        send_at="2026-11-16T10:00:00Z",
        rung_at=["2026-11-16T10:00:00Z", "2026-11-17T10:00:00Z", "2026-11-20T10:00:00Z"],
        closes_at="2026-11-23T10:00:00Z",
    )
    # The last wait is ended by the expiry schedule at closing; its own timeout is the
    # backstop a day later. One past the last rung, the expiry step gets its bound.
    assert lifecycle_input(invitation) == {
        "invitationId": "i",
        "sendAt": "2026-11-16T10:00:00Z",
        "waits": [24 * 3600, 72 * 3600, 72 * 3600 + EXPIRY_BACKSTOP_SECONDS, EXPIRY_STEP_SECONDS],
    }


# ---------------------------------------------------------------- SMS origination identity


@pytest.mark.parametrize(
    ("identity", "attribute"),
    [
        ("+358401234567", "AWS.MM.SMS.OriginationNumber"),
        ("ExampleOy", "AWS.SNS.SMS.SenderID"),
        (None, None),
    ],
)
def test_the_origination_identity_goes_in_its_own_attribute(
    identity: str | None, attribute: str | None
) -> None:
    sns = boto3.client(
        "sns", region_name="eu-north-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if attribute:
        attributes[attribute] = {"DataType": "String", "StringValue": identity}
    with Stubber(sns) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "m-1"},
            {"PhoneNumber": "+358401234567", "Message": "Hi", "MessageAttributes": attributes},
        )
        assert SmsSender(sns, identity).send(phone="+358401234567", text="Hi") == "m-1"
        stub.assert_no_pending_responses()
