"""SES feedback on survey emails (logic/delivery.handle_feedback) on the in-memory
repositories: no moto. The invitation email is sent by the send step on the same fakes, so the
feedback is about a message as it was recorded. The same paths against the template's tables
are in tests/integration/test_delivery.py."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.config import DeliveryConfig
from survey_core.domain.suppressions import address_key
from survey_core.logic.delivery import (
    EmailFeedback,
    FeedbackBeforeSendRecorded,
    FeedbackResult,
    MalformedFeedback,
    handle_feedback,
)
from survey_core.logic.send import Fallback, SendPorts

from tests.conftest import example_event
from tests.gateways import FakeLifecycle
from tests.repositories import MemorySuppressions
from tests.unit.test_send_use_case import (
    CATALOGUE,
    EMAIL,
    PHONE,
    SEND_ENVIRONMENT,
    attempts,
    fakes,
    planned_invitation,
    rung,
    send_ports,
    stored,
)

pytestmark = pytest.mark.unit

CONFIG = DeliveryConfig.from_env(SEND_ENVIRONMENT)  # the clock stands at Monday 12:00 Helsinki
BOUNCED = "aws/ses-email-bounced.json"
COMPLAINED = "aws/ses-email-complaint.json"


def emailed(**consent: bool) -> SendPorts:
    """The post-purchase invitation emailed (rung 0; the SMS reminder is due in 24 h)."""
    ports = send_ports()
    planned_invitation(ports.repos, **consent)
    assert rung(ports, 0).channel == "email"
    return ports


def ses_event(name: str, message_id: str, invitation_id: str | None = "inv-1") -> dict[str, Any]:
    """The example SES event (as EventBridge delivers it) about one message."""
    event = copy.deepcopy(example_event(name))
    mail = event["detail"]["mail"]
    mail["messageId"] = message_id
    if invitation_id is None:
        del mail["tags"]["invitation"], mail["tags"]["rung"]
    else:
        mail["tags"]["invitation"] = [invitation_id]
    return event


def report(ports: SendPorts, event: dict[str, Any]) -> FeedbackResult:
    feedback = EmailFeedback.from_event(event)
    return handle_feedback(feedback, CONFIG, CATALOGUE, ports.lifecycle, ports.repos)


def sent_email_id(ports: SendPorts) -> str:
    [email] = fakes(ports)[0].sent
    return email.message_id


def suppressed(ports: SendPorts) -> dict[str, str]:
    suppressions = ports.repos.suppressions
    assert isinstance(suppressions, MemorySuppressions)
    return {key: s.reason for key, s in suppressions.stored.items()}


def lifecycle(ports: SendPorts) -> FakeLifecycle:
    return fakes(ports)[2]


def test_a_hard_bounce_suppresses_the_address_and_the_rung_is_resent_by_sms() -> None:
    ports = emailed()

    result = report(ports, ses_event(BOUNCED, sent_email_id(ports)))

    assert (result.outcome, result.suppressed) == ("fallback", True)
    assert suppressed(ports) == {address_key("email", EMAIL): "bounced"}
    assert attempts(ports) == [(0, "email", "bounced", None)]
    # The rung's wait ends with EmailBounced: SMS now, waiting until rung 1 is due.
    [(token, error, cause)] = lifecycle(ports).failed
    assert (token, error) == ("token-0", "EmailBounced")
    assert json.loads(cause) == {"channel": "sms", "at": "2026-11-16T10:00:00Z", "wait": 86400}

    # The lifecycle sends the fallback: the SMS invites (nothing reached the customer yet).
    fallback = Fallback(**json.loads(cause))
    sent = rung(ports, 0, token="fallback", fallback=fallback)
    assert (sent.outcome, sent.channel, sent.kind) == ("sent", "sms", "invitation")
    [(phone, text)] = fakes(ports)[1].sent
    assert phone == PHONE and text.startswith("Miten onnistuimme?")
    assert stored(ports).attempts[-1].fallback is True
    # and the last rung's email is skipped: the address bounced.
    last = rung(ports, 2)
    assert (last.outcome, last.reason) == ("skipped", "bounced")
    assert len(fakes(ports)[0].sent) == 1


def test_a_bounce_with_sms_consent_withdrawn_fails_the_invitation() -> None:
    ports = emailed(sms=False)

    result = report(ports, ses_event(BOUNCED, sent_email_id(ports)))

    assert (result.outcome, result.suppressed) == ("failed", True)
    assert lifecycle(ports).failed == [
        ("token-0", "DeliveryFailed", "the email bounced and no other channel is usable")
    ]
    # Nothing reached the customer: the lifecycle may mark the survey failed.
    assert stored(ports).contacted_at is None
    assert fakes(ports)[1].sent == []


def test_a_bounce_in_quiet_hours_falls_back_when_they_end() -> None:
    ports = emailed()
    late = datetime(2026, 11, 16, 20, 30, tzinfo=UTC)  # 22:30 in Helsinki
    config = replace(CONFIG, clock=lambda: late)
    feedback = EmailFeedback.from_event(ses_event(BOUNCED, sent_email_id(ports)))

    result = handle_feedback(feedback, config, CATALOGUE, ports.lifecycle, ports.repos)

    assert (result.outcome, result.fallback_at) == ("fallback", "2026-11-17T06:00:00Z")
    [(_, _, cause)] = lifecycle(ports).failed
    # 08:00 Helsinki on Tuesday; rung 1 is due at 12:00 Helsinki: four hours later.
    assert json.loads(cause) == {"channel": "sms", "at": "2026-11-17T06:00:00Z", "wait": 4 * 3600}


def test_a_transient_bounce_suppresses_nothing_but_still_falls_back() -> None:
    ports = emailed()
    event = ses_event(BOUNCED, sent_email_id(ports))
    event["detail"]["bounce"].update(bounceType="Transient", bounceSubType="MailboxFull")

    result = report(ports, event)

    assert (result.outcome, result.suppressed) == ("fallback", False)
    assert suppressed(ports) == {}
    assert [error for _, error, _ in lifecycle(ports).failed] == ["EmailBounced"]


def test_a_complaint_suppresses_email_and_sends_no_sms_at_once() -> None:
    ports = emailed()

    result = report(ports, ses_event(COMPLAINED, sent_email_id(ports)))

    assert (result.outcome, result.suppressed, result.reason) == ("noted", True, "complaint")
    assert suppressed(ports) == {address_key("email", EMAIL): "complained"}
    assert attempts(ports) == [(0, "email", "complained", None)]
    assert lifecycle(ports).failed == [] and lifecycle(ports).answered == []
    # The ladder goes on: the SMS reminder is sent, the last email is skipped.
    assert rung(ports, 1).channel == "sms"
    assert rung(ports, 2).reason == "opted-out"


def test_a_not_spam_report_suppresses_nothing() -> None:
    ports = emailed()
    event = ses_event(COMPLAINED, sent_email_id(ports))
    event["detail"]["complaint"]["complaintFeedbackType"] = "not-spam"

    assert report(ports, event).suppressed is False
    assert suppressed(ports) == {}


def test_the_same_bounce_twice_falls_back_once() -> None:
    ports = emailed()
    event = ses_event(BOUNCED, sent_email_id(ports))
    assert report(ports, event).outcome == "fallback"

    # Delivered again before the fallback ran: the rung's wait is over already.
    again = report(ports, event)
    assert (again.outcome, again.reason) == ("noted", "rung-wait-over")
    # Delivered again after the fallback SMS went: a later attempt is waiting.
    rung(ports, 0, token="fallback", fallback=Fallback("sms", "2026-11-16T10:00:00Z", 86400))
    late = report(ports, event)
    assert (late.outcome, late.reason) == ("noted", "a-later-rung-is-waiting")

    assert [token for token, _, _ in lifecycle(ports).failed] == ["token-0"]
    assert len(fakes(ports)[1].sent) == 1
    assert suppressed(ports) == {address_key("email", EMAIL): "bounced"}
    assert [a.outcome for a in stored(ports).attempts] == ["bounced", "sent"]


def test_a_bounce_before_the_send_is_recorded_is_retried_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given SES taking the email but its record not written yet (the send still running)
    ports = send_ports()
    planned_invitation(ports.repos)
    monkeypatch.setattr(ports.repos.invitations, "record_sent", lambda *a, **k: None)
    rung(ports, 0)
    monkeypatch.undo()
    assert attempts(ports) == [(0, "email", "sending", None)]
    event = ses_event(BOUNCED, sent_email_id(ports))

    # Then the invocation fails, for Lambda to retry it; nothing is marked or ended yet.
    with pytest.raises(FeedbackBeforeSendRecorded):
        report(ports, event)
    assert attempts(ports) == [(0, "email", "sending", None)]
    assert lifecycle(ports).failed == []
    # The address is suppressed already (the retry adds the same record again).
    assert suppressed(ports) == {address_key("email", EMAIL): "bounced"}


def test_feedback_on_a_rung_not_sent_yet_is_retried() -> None:
    ports = emailed()
    event = ses_event(BOUNCED, "not-recorded-yet")
    event["detail"]["mail"]["tags"]["rung"] = ["1"]

    with pytest.raises(FeedbackBeforeSendRecorded):
        report(ports, event)
    assert lifecycle(ports).failed == []
    assert attempts(ports) == [(0, "email", "sent", None)]


def test_a_bounce_of_mail_that_is_not_a_survey_only_suppresses() -> None:
    ports = send_ports()

    result = report(ports, ses_event(BOUNCED, "some-other-message", invitation_id=None))

    assert (result.outcome, result.suppressed) == ("not-survey", True)
    assert suppressed(ports) == {address_key("email", EMAIL): "bounced"}
    assert lifecycle(ports).failed == []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda detail: detail["mail"].pop("messageId"),
        lambda detail: detail["bounce"].pop("bouncedRecipients"),
        lambda detail: detail.update(eventType="Delivery"),
        lambda detail: detail["mail"]["tags"].update(rung=["first"]),
    ],
    ids=["no-message-id", "no-recipients", "not-a-bounce-or-complaint", "rung-not-a-number"],
)
def test_malformed_feedback_is_refused_before_anything_is_written(spoil: Any) -> None:
    ports = send_ports()
    event = ses_event(BOUNCED, "some-message")
    spoil(event["detail"])

    with pytest.raises(MalformedFeedback):
        report(ports, event)
    assert suppressed(ports) == {}
