"""The delivery function against moto: SES bounces and complaints of survey emails."""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Deployment, example_event
from tests.integration.helpers import AwsCalls, lambda_context, sent_emails, sent_sms
from tests.integration.test_send import FIXED_CLOCK, _attempts, _rung, _start

pytestmark = pytest.mark.integration

EMAIL = "maija.meikalainen@example.com"


def _feedback(name: str, invitation: dict[str, Any] | None, message_id: str) -> dict[str, Any]:
    """The example SES event, about the email that was really sent."""
    event = copy.deepcopy(example_event(name))
    mail = event["detail"]["mail"]
    mail["messageId"] = message_id
    if invitation is None:
        del mail["tags"]["invitation"], mail["tags"]["rung"]
    else:
        mail["tags"]["invitation"] = [invitation["invitation_id"]["S"]]
    return event


def _sent_email_id(deployment: Deployment, invitation: dict[str, Any], rung: int = 0) -> str:
    return next(
        a["message_id"]
        for a in _attempts(deployment, invitation)
        if a["rung"] == str(rung) and a["channel"] == "email"
    )


def _report(deployment: Deployment, delivery: Any, name: str, invitation: dict[str, Any]) -> Any:
    """SES reports (the example event `name`) on the invitation's first email, as sent."""
    event = _feedback(name, invitation, _sent_email_id(deployment, invitation))
    return delivery.lambda_handler(event, lambda_context())


def _delivery(deployment: Deployment, clock: str = FIXED_CLOCK) -> tuple[Any, AwsCalls]:
    delivery = deployment.load("DeliveryFunction", LOCAL_CLOCK=clock)
    return delivery, AwsCalls(delivery.LIFECYCLE._sfn, "SendTaskFailure")


def _suppressions(deployment: Deployment) -> list[dict[str, Any]]:
    table = deployment.physical_id("SuppressionsTable")
    return deployment.client("dynamodb").scan(TableName=table)["Items"]


def _emailed(deployment: Deployment, **customer: Any) -> tuple[dict[str, Any], Any]:
    invitation = _start(deployment, customer)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    return invitation, send


def test_a_bounced_invitation_is_resent_by_sms_and_the_address_suppressed(
    deployment: Deployment,
) -> None:
    # Given the invitation emailed (rung 0; the SMS reminder is due in 24 h)
    invitation, send = _emailed(deployment)
    delivery, sfn = _delivery(deployment)
    # When SES reports a hard bounce
    result = _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    # Then the address is suppressed, kept only as a hash
    assert result["outcome"] == "fallback"
    [suppression] = _suppressions(deployment)
    assert suppression["address_key"]["S"].startswith("email#")
    assert suppression["reason"]["S"] == "bounced"
    assert "@" not in json.dumps(suppression)
    # and the rung's wait ends with EmailBounced: SMS now, waiting until rung 1 is due
    [failure] = sfn.requests
    assert (failure["taskToken"], failure["error"]) == ("token-0", "EmailBounced")
    assert json.loads(failure["cause"]) == {
        "channel": "sms",
        "at": "2026-11-16T10:00:00Z",
        "wait": 24 * 3600,
    }
    assert _attempts(deployment, invitation)[0]["outcome"] == "bounced"
    # When the lifecycle sends the fallback
    fallback = _rung(send, invitation, 0, token="fallback", fallback=json.loads(failure["cause"]))
    # Then the SMS invites (the customer got nothing yet), marked as the rung's fallback
    assert (fallback["outcome"], fallback["channel"], fallback["kind"]) == (
        "sent",
        "sms",
        "invitation",
    )
    [(_, text)] = sent_sms()
    assert text.startswith("Miten onnistuimme?")
    assert _attempts(deployment, invitation)[-1]["fallback"] is True
    # and the last rung's email is skipped: the address bounced
    assert _rung(send, invitation, 2)["reason"] == "bounced"
    assert len(sent_emails()) == 1


def test_a_bounce_in_quiet_hours_falls_back_when_they_end(deployment: Deployment) -> None:
    invitation, _ = _emailed(deployment)
    late = datetime(2026, 11, 16, 20, 30, tzinfo=UTC)  # 22:30 in Helsinki
    delivery, sfn = _delivery(deployment, clock=f"{late.isoformat()}|0|0")
    _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    [failure] = sfn.requests
    # 08:00 Helsinki on Tuesday; rung 1 is due at 12:00 Helsinki: four hours later
    assert json.loads(failure["cause"]) == {
        "channel": "sms",
        "at": "2026-11-17T06:00:00Z",
        "wait": 4 * 3600,
    }


def test_a_soft_bounce_falls_back_without_suppressing_the_address(
    deployment: Deployment,
) -> None:
    invitation, _ = _emailed(deployment)
    event = _feedback(
        "aws/ses-email-bounced.json", invitation, _sent_email_id(deployment, invitation)
    )
    event["detail"]["bounce"].update(bounceType="Transient", bounceSubType="MailboxFull")
    delivery, sfn = _delivery(deployment)
    result = delivery.lambda_handler(event, lambda_context())
    assert (result["outcome"], result["suppressed"]) == ("fallback", False)
    assert _suppressions(deployment) == []
    assert [r["error"] for r in sfn.requests] == ["EmailBounced"]


def test_a_complaint_suppresses_email_and_sends_no_sms_at_once(deployment: Deployment) -> None:
    invitation, send = _emailed(deployment)
    delivery, sfn = _delivery(deployment)
    result = _report(deployment, delivery, "aws/ses-email-complaint.json", invitation)
    assert result["outcome"] == "noted"
    assert [s["reason"]["S"] for s in _suppressions(deployment)] == ["complained"]
    assert sfn.requests == []
    assert _attempts(deployment, invitation)[0]["outcome"] == "complained"
    # The ladder goes on: the SMS reminder is sent, the last email is skipped.
    assert _rung(send, invitation, 1)["channel"] == "sms"
    assert _rung(send, invitation, 2)["reason"] == "opted-out"


def test_a_not_spam_report_suppresses_nothing(deployment: Deployment) -> None:
    invitation, _ = _emailed(deployment)
    event = _feedback(
        "aws/ses-email-complaint.json", invitation, _sent_email_id(deployment, invitation)
    )
    event["detail"]["complaint"]["complaintFeedbackType"] = "not-spam"
    delivery, _ = _delivery(deployment)
    assert delivery.lambda_handler(event, lambda_context())["suppressed"] is False
    assert _suppressions(deployment) == []


def test_a_customer_without_another_channel_fails_with_the_reason(
    deployment: Deployment,
) -> None:
    invitation, _ = _emailed(deployment, phone=None, consent={"email": True, "sms": False})
    delivery, sfn = _delivery(deployment)
    result = _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    assert result["outcome"] == "failed"
    assert [(r["error"], r["cause"]) for r in sfn.requests] == [
        ("DeliveryFailed", "the email bounced and no other channel is usable")
    ]


def test_a_late_bounce_of_an_earlier_rung_only_suppresses(deployment: Deployment) -> None:
    # Given the SMS reminder already sent when the invitation's bounce comes in
    invitation, send = _emailed(deployment)
    _rung(send, invitation, 1)
    delivery, sfn = _delivery(deployment)
    result = _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    assert (result["outcome"], result["suppressed"]) == ("noted", True)
    assert sfn.requests == []


def test_a_bounce_of_mail_that_is_not_a_survey_only_suppresses(deployment: Deployment) -> None:
    delivery, sfn = _delivery(deployment)
    result = delivery.lambda_handler(
        _feedback("aws/ses-email-bounced.json", None, "some-other-message"), lambda_context()
    )
    assert (result["outcome"], result["suppressed"]) == ("not-survey", True)
    assert len(_suppressions(deployment)) == 1
    assert sfn.requests == []


def test_a_bounced_address_is_left_out_of_the_next_survey(deployment: Deployment) -> None:
    invitation, _ = _emailed(deployment)
    delivery, _ = _delivery(deployment)
    _report(deployment, delivery, "aws/ses-email-bounced.json", invitation)
    # The same address under another customer id: the suppression belongs to the address.
    later = _start(deployment, {"id": "cust-0002", "email": EMAIL.upper()}, order="A-2002")
    assert [c["S"] for c in later["channels"]["L"]] == ["sms"]


def test_an_event_without_the_fields_needed_is_refused_loudly(deployment: Deployment) -> None:
    delivery, _ = _delivery(deployment)
    event = example_event("aws/ses-email-bounced.json")
    del event["detail"]["mail"]["messageId"]
    with pytest.raises(Exception) as raised:
        delivery.lambda_handler(event, lambda_context())
    assert type(raised.value).__name__ == "MalformedFeedback"


def test_a_bounce_before_the_send_is_recorded_is_retried_not_lost(
    deployment: Deployment,
) -> None:
    # Given rung 0 emailed and SES reporting on rung 1's email, which the send function has
    # not recorded yet (its invocation still running)
    invitation, _ = _emailed(deployment)
    event = _feedback("aws/ses-email-bounced.json", invitation, "not-recorded-yet")
    event["detail"]["mail"]["tags"]["rung"] = ["1"]
    delivery, sfn = _delivery(deployment)
    # Then the invocation fails, for Lambda to retry it (then the dead-letter queue)
    with pytest.raises(Exception) as raised:
        delivery.lambda_handler(event, lambda_context())
    assert type(raised.value).__name__ == "FeedbackBeforeSendRecorded"
    assert sfn.requests == []
