"""The send function against moto: one rung at a time, as the lifecycle calls it."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from survey_core.events.contracts import validate_detail

from tests.conftest import Deployment, example_event
from tests.integration.helpers import (
    AwsCalls,
    BusRecorder,
    DynamoDbOutage,
    counters,
    emf_metrics,
    lambda_context,
    post_form,
    sent_emails,
    sent_sms,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
FIXED_CLOCK = f"{NOW.isoformat()}|0|0"
EVENT = example_event("purchase-completed.json")
EMAIL = EVENT["detail"]["customer"]["email"]
PHONE = EVENT["detail"]["customer"]["phone"]


def _start(
    deployment: Deployment, customer: dict[str, Any] | None = None, order: str = "A-1001"
) -> dict[str, Any]:
    """A post-purchase invitation (email, SMS 24 h later, a last email 72 h after that)."""
    event = example_event("purchase-completed.json")
    event["detail"]["orderId"] = order
    event["detail"]["customer"].update(customer or {})
    event["detail"]["customer"] = {k: v for k, v in event["detail"]["customer"].items() if v}
    trigger = deployment.load("TriggerFunction", LOCAL_CLOCK=FIXED_CLOCK)
    [decision] = trigger.lambda_handler(event, lambda_context())["decisions"]
    assert decision["outcome"] == "started"
    return _invitation(deployment, decision["invitation_id"])


def _invitation(deployment: Deployment, invitation_id: str) -> dict[str, Any]:
    return deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": {"S": invitation_id}},
        ConsistentRead=True,
    )["Item"]


def _task_token(deployment: Deployment, invitation_id: str) -> str:
    """The token the lifecycle waits on, as the send function stored it (its wait item)."""
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": {"S": f"{invitation_id}#wait"}},
        ConsistentRead=True,
    )["Item"]
    return str(item["task_token"]["S"])


def _rung(send: Any, invitation: dict[str, Any], rung: int, token: str = "", **extra: Any):
    event = {
        "invitationId": invitation["invitation_id"]["S"],
        "rung": rung,
        "taskToken": token or f"token-{rung}",
        "fallback": None,
        **extra,
    }
    return send.lambda_handler(event, lambda_context())


def _answer_by_link(deployment: Deployment, invitation: dict[str, Any]) -> None:
    """The customer taps score 8 in the message and sends the page it opens: answered."""
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    link = f"/s/{invitation['link_token']['S']}"
    with Client(collect.app) as client:
        assert client.http.get(f"{link}?score=8").status_code == 200
        assert post_form(client, link, "score=8").status_code == 200


def _attempts(deployment: Deployment, invitation: dict[str, Any]) -> list[dict[str, Any]]:
    stored = _invitation(deployment, invitation["invitation_id"]["S"])
    return [
        {k: next(iter(v.values())) for k, v in attempt["M"].items()}
        for attempt in stored["attempts"]["L"]
    ]


def test_each_rung_goes_on_its_planned_channel_with_its_own_wording(
    deployment: Deployment,
) -> None:
    # Given a started post-purchase invitation and the send function
    invitation = _start(deployment)
    token = invitation["link_token"]["S"]
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    recorder = BusRecorder(deployment)
    # When the lifecycle sends rung 0, 1 and 2
    results = [_rung(send, invitation, rung) for rung in range(3)]
    # Then: an email invitation, an SMS reminder, a last email reminder
    assert [(r["outcome"], r["channel"], r["kind"]) for r in results] == [
        ("sent", "email", "invitation"),
        ("sent", "sms", "reminder"),
        ("sent", "email", "last-reminder"),
    ]
    first, last = sent_emails()
    assert first["to"] == [EMAIL]
    assert first["from"] == "Example Oy <surveys@example.com>"
    assert first["subject"] == "Miten onnistuimme? Kerro mielipiteesi - Example Oy"
    assert last["subject"].startswith("Viimeinen muistutus")
    for mail in (first, last):
        survey, unsubscribe = (f"https://surveys.example.com/{p}/{token}" for p in ("s", "u"))
        # one-tap links 0..10 in both parts, and the unsubscribe link
        for part in (mail["body"], mail["text"]):
            assert f"{survey}?score=0" in part
            assert f"{survey}?score=10" in part
            assert unsubscribe in part
        # RFC 8058 one-click unsubscribe
        assert mail["headers"]["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # no personal data in the subject
        for personal in (EMAIL, "maija", "A-1001", PHONE):
            assert personal.lower() not in mail["subject"].lower()
    [(phone, text)] = sent_sms()
    assert phone == PHONE
    assert text == (
        f"Muistutus: arvioi Example Oy 0-10, vie 10 sekuntia: https://surveys.example.com/s/{token}"
        "\nLopetus: vastaa STOP"
    )
    attempts = _attempts(deployment, invitation)
    assert [(a["rung"], a["channel"], a["outcome"]) for a in attempts] == [
        ("0", "email", "sent"),
        ("1", "sms", "sent"),
        ("2", "email", "sent"),
    ]
    stored = _invitation(deployment, invitation["invitation_id"]["S"])
    assert stored["status"]["S"] == "sent" and "task_token" not in stored
    assert _task_token(deployment, invitation["invitation_id"]["S"]) == "token-2"
    sent = [e["detail"] for e in recorder.events() if e["detail-type"] == "Survey Invitation Sent"]
    assert [(e["rung"], e["channel"], e["kind"], e["fallback"]) for e in sent] == [
        (0, "email", "invitation", False),
        (1, "sms", "reminder", False),
        (2, "email", "last-reminder", False),
    ]


def test_the_email_goes_with_the_configuration_set_and_the_invitations_tags(
    deployment: Deployment,
) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    ses = AwsCalls(send.PORTS.mailer._ses, "SendEmail")
    _rung(send, invitation, 0)
    [request] = ses.requests
    assert request["ConfigurationSetName"] == deployment.outputs["EmailConfigurationSetName"]
    assert request["ConfigurationSetName"] == "feedback-surveys"
    assert request["EmailTags"] == [
        {"Name": "invitation", "Value": invitation["invitation_id"]["S"]},
        {"Name": "rung", "Value": "0"},
    ]
    assert "Raw" in request["Content"]


def test_a_retried_rung_waits_on_the_new_token_without_sending_again(
    deployment: Deployment,
) -> None:
    # Given rung 0 already sent (the lifecycle retried the task after a Lambda error)
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0, token="first")
    # When the same rung is invoked again with a new token
    again = _rung(send, invitation, 0, token="second")
    # Then nothing more is sent, and an answer now ends the retried task's wait
    assert (again["outcome"], again["channel"]) == ("repeated", "email")
    assert len(sent_emails()) == 1
    assert _task_token(deployment, invitation["invitation_id"]["S"]) == "second"


def test_a_reminder_on_an_opted_out_channel_is_skipped_and_the_ladder_goes_on(
    deployment: Deployment,
) -> None:
    # Given an invitation emailed, and the customer unsubscribing from survey email by its link
    invitation = _start(deployment)
    token = invitation["link_token"]["S"]
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        page = post_form(client, f"/u/{token}", "channel=email")
    assert page.status_code == 200
    # When the lifecycle reaches the SMS reminder and the last (email) reminder
    sms, last = _rung(send, invitation, 1), _rung(send, invitation, 2)
    # Then the SMS goes, and the last email is skipped with the reason
    assert (sms["outcome"], sms["channel"]) == ("sent", "sms")
    assert (last["outcome"], last["reason"]) == ("skipped", "opted-out")
    assert len(sent_emails()) == 1
    assert _attempts(deployment, invitation)[-1] == {
        "rung": "2",
        "channel": "none",
        "outcome": "skipped",
        "at": "2026-11-16T10:00:00Z",
        "reason": "opted-out",
        "fallback": False,
    }


def test_an_invitation_refused_by_ses_goes_by_sms_at_once(deployment: Deployment) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    AwsCalls(send.PORTS.mailer._ses, "SendEmail").fail_next("MessageRejected")
    result = _rung(send, invitation, 0)
    assert (result["outcome"], result["channel"], result["kind"]) == ("sent", "sms", "invitation")
    assert sent_emails() == []
    [(phone, text)] = sent_sms()
    assert phone == PHONE
    assert text.startswith("Miten onnistuimme? Arvioi Example Oy 0-10:")
    assert [
        (a["channel"], a["outcome"], a.get("reason")) for a in _attempts(deployment, invitation)
    ] == [
        ("email", "failed", "MessageRejected"),
        ("sms", "sent", None),
    ]


def test_an_invitation_no_channel_accepts_fails_with_the_reasons(deployment: Deployment) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    AwsCalls(send.PORTS.mailer._ses, "SendEmail").fail_next("MessageRejected")
    AwsCalls(send.PORTS.sms._sns, "Publish").fail_next("InvalidParameter")
    with pytest.raises(Exception) as raised:
        _rung(send, invitation, 0)
    # The lifecycle catches the error by name and marks the invitation failed with it.
    assert type(raised.value).__name__ == "DeliveryFailed"
    assert str(raised.value) == "email: MessageRejected; sms: InvalidParameter"


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [("SendEmail", "TooManyRequestsException", 429), ("Publish", "Throttled", 400)],
)
def test_throttling_is_raised_as_send_throttled_for_the_lifecycle_to_retry(
    deployment: Deployment, operation: str, code: str, status: int
) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    client = send.PORTS.mailer._ses if operation == "SendEmail" else send.PORTS.sms._sns
    AwsCalls(client, operation).fail_next(code, status=status)
    rung = 0 if operation == "SendEmail" else 1
    with pytest.raises(Exception) as raised:
        _rung(send, invitation, rung)
    assert type(raised.value).__name__ == "SendThrottled"
    assert sent_emails() == [] and sent_sms() == []
    assert _attempts(deployment, invitation) == []  # nothing recorded: the retry sends it


def test_a_rung_after_the_answer_sends_nothing_and_ends_the_wait(deployment: Deployment) -> None:
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    _answer_by_link(deployment, invitation)
    sfn = AwsCalls(send.PORTS.lifecycle._sfn, "SendTaskSuccess")
    result = _rung(send, invitation, 1, token="reminder-token")
    assert (result["outcome"], result["reason"]) == ("closed", "answered")
    assert sent_sms() == []
    assert [r["taskToken"] for r in sfn.requests] == ["reminder-token"]


def test_one_past_the_last_rung_the_survey_expires_is_announced_and_the_wait_ends(
    deployment: Deployment,
) -> None:
    # Given the three rungs of a post-purchase invitation sent and no answer
    invitation = _start(deployment)
    invitation_id = invitation["invitation_id"]["S"]
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    for rung in range(3):
        _rung(send, invitation, rung)
    recorder = BusRecorder(deployment)
    sfn = AwsCalls(send.PORTS.lifecycle._sfn, "SendTaskSuccess")
    # When the lifecycle calls the send function one past the last rung (its last wait ended)
    result = _rung(send, invitation, 3, token="expiry-token")
    # Then nothing is sent, the survey is expired, its expiry is announced under its contract,
    # and the expiry step ends its own wait
    assert result["outcome"] == "expired"
    assert len(sent_emails()) == 2 and len(sent_sms()) == 1
    stored = _invitation(deployment, invitation_id)
    assert (stored["status"]["S"], stored["updated_at"]["S"]) == ("expired", "2026-11-16T10:00:00Z")
    [expired] = [e for e in recorder.events() if e["detail-type"] == "Survey Expired"]
    assert expired["detail"] == {
        "version": "1",
        "invitationId": invitation_id,
        "expiredAt": "2026-11-16T10:00:00Z",
    }
    validate_detail("Survey Expired", expired["detail"])
    assert [(r["taskToken"], json.loads(r["output"])) for r in sfn.requests] == [
        ("expiry-token", {"status": "expired"})
    ]


def _expiry_schedules(deployment: Deployment) -> list[dict[str, Any]]:
    scheduler = deployment.client("scheduler")
    group = deployment.environments["SendFunction"]["EXPIRY_SCHEDULE_GROUP"]
    return [
        scheduler.get_schedule(GroupName=group, Name=s["Name"])
        for s in scheduler.list_schedules(GroupName=group)["Schedules"]
    ]


def _scheduled_expiry(send: Any, invitation: dict[str, Any]) -> dict[str, Any]:
    """What the survey's expiry schedule sends the function when the survey closes."""
    schedule_input = {"invitationId": invitation["invitation_id"]["S"], "expire": True}
    return send.lambda_handler(schedule_input, lambda_context())


def test_the_last_rung_plans_the_expiry_schedule_that_calls_the_function_back_at_close(
    deployment: Deployment,
) -> None:
    # Given a post-purchase invitation (three rungs; it closes after the last one)
    invitation = _start(deployment)
    invitation_id = invitation["invitation_id"]["S"]
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    # When the invitation and the first reminder go out, nothing is planned yet
    _rung(send, invitation, 0)
    _rung(send, invitation, 1)
    assert _expiry_schedules(deployment) == []
    # When the last rung goes out
    result = _rung(send, invitation, 2, token="last-token")
    # Then one one-time schedule calls this function back when the survey closes, runs with
    # the expiry role, dead-letters to the failed-deliveries queue, and deletes itself
    assert (result["outcome"], result["expiry_planned"]) == ("sent", True)
    environment = deployment.environments["SendFunction"]
    [schedule] = _expiry_schedules(deployment)
    closes_at = invitation["closes_at"]["S"].removesuffix("Z")
    assert schedule["Name"] == f"expire-{invitation_id}"
    assert schedule["ScheduleExpression"] == f"at({closes_at})"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == lambda_context().invoked_function_arn
    assert target["RoleArn"] == environment["EXPIRY_SCHEDULE_ROLE_ARN"]
    assert target["DeadLetterConfig"]["Arn"] == environment["FAILED_DELIVERIES_QUEUE_ARN"]
    assert json.loads(target["Input"]) == {"invitationId": invitation_id, "expire": True}
    # and the rung sent again (a retry) finds it planned: still one, and still sent
    again = _rung(send, invitation, 2, token="retry-token")
    assert (again["outcome"], again["expiry_planned"]) == ("repeated", True)
    assert len(_expiry_schedules(deployment)) == 1


def test_a_last_rung_that_runs_after_closing_plans_its_expiry_a_minute_later(
    deployment: Deployment,
) -> None:
    # Given the last rung running an hour after the survey's closing time (it ran very late)
    invitation = _start(deployment)
    closes_at = datetime.fromisoformat(invitation["closes_at"]["S"])
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    late_clock = (closes_at + timedelta(hours=1)).isoformat()
    late = deployment.load("SendFunction", LOCAL_CLOCK=f"{late_clock}|0|0")
    # When it goes out
    _rung(late, invitation, 2)
    # Then its expiry is planned a minute from then, not at a time already past
    [schedule] = _expiry_schedules(deployment)
    expected = (closes_at + timedelta(hours=1, minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert schedule["ScheduleExpression"] == f"at({expected})"


def test_when_the_survey_closes_its_schedule_expires_it_and_ends_the_last_wait(
    deployment: Deployment,
) -> None:
    # Given the three rungs sent and no answer
    invitation = _start(deployment)
    invitation_id = invitation["invitation_id"]["S"]
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    for rung in range(3):
        _rung(send, invitation, rung, token=f"token-{rung}")
    recorder = BusRecorder(deployment)
    sfn = AwsCalls(send.PORTS.lifecycle._sfn, "SendTaskSuccess")
    # When the expiry schedule runs
    result = _scheduled_expiry(send, invitation)
    # Then the survey is expired and announced, and the last rung's wait ends with the token
    # that rung stored: the lifecycle needs no expiry state
    assert result["outcome"] == "expired"
    assert _invitation(deployment, invitation_id)["status"]["S"] == "expired"
    [expired] = [e for e in recorder.events() if e["detail-type"] == "Survey Expired"]
    validate_detail("Survey Expired", expired["detail"])
    assert [(r["taskToken"], json.loads(r["output"])) for r in sfn.requests] == [
        ("token-2", {"status": "expired"})
    ]


def test_a_schedule_that_runs_after_an_answer_or_an_erasure_changes_nothing(
    deployment: Deployment,
) -> None:
    # Given a survey answered after its last reminder, and another erased since
    answered = _start(deployment)
    erased = _start(
        deployment,
        {"id": "cust-0002", "email": "erkki@example.com", "phone": "+358401234568"},
        order="A-1002",
    )
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    for invitation in (answered, erased):
        for rung in range(3):
            _rung(send, invitation, rung, token=f"{invitation['invitation_id']['S']}-{rung}")
    _answer_by_link(deployment, answered)
    deployment.client("dynamodb").delete_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": erased["invitation_id"]},
    )
    recorder = BusRecorder(deployment)
    # When both expiry schedules run
    results = [_scheduled_expiry(send, answered), _scheduled_expiry(send, erased)]
    # Then the answer stands, the erased survey is not written again, nothing is announced
    assert [(r["outcome"], r["reason"]) for r in results] == [
        ("closed", "answered"),
        ("closed", "erased"),
    ]
    assert _invitation(deployment, answered["invitation_id"]["S"])["status"]["S"] == "answered"
    assert "Item" not in deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("InvitationsTable"),
        Key={"invitation_id": erased["invitation_id"]},
    )
    assert [e for e in recorder.events() if e["detail-type"] == "Survey Expired"] == []


def test_a_refused_expiry_schedule_does_not_stop_the_last_rung_and_is_counted(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Scheduler refusing the expiry schedule (its retries spent)
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    _rung(send, invitation, 1)
    scheduler = AwsCalls(send.PORTS.expiries._scheduler, "CreateSchedule")
    scheduler.fail_next("ThrottlingException", 400, times=10)
    capsys.readouterr()
    # When the last rung goes out
    result = _rung(send, invitation, 2)
    # Then the message still goes out (the rung's backstop timeout expires the survey a day
    # after it closes), and the missing schedule is counted for the operators
    assert (result["outcome"], result["expiry_planned"]) == ("sent", False)
    assert len(sent_emails()) == 2
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert totals["ExpiriesNotPlanned"] == 1
    assert _expiry_schedules(deployment) == []


def test_an_answer_that_beat_the_expiry_keeps_the_survey_answered(deployment: Deployment) -> None:
    # Given an invitation answered just before its last wait ended
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    _answer_by_link(deployment, invitation)
    recorder = BusRecorder(deployment)
    sfn = AwsCalls(send.PORTS.lifecycle._sfn, "SendTaskSuccess")
    # When the expiry step runs anyway
    result = _rung(send, invitation, 3, token="expiry-token")
    # Then the answer stands: nothing expires, nothing is announced, the wait ends
    assert (result["outcome"], result["reason"]) == ("closed", "answered")
    assert _invitation(deployment, invitation["invitation_id"]["S"])["status"]["S"] == "answered"
    assert [e for e in recorder.events() if e["detail-type"] == "Survey Expired"] == []
    assert [r["taskToken"] for r in sfn.requests] == ["expiry-token"]


def test_a_retried_expiry_announces_again_rather_than_never(deployment: Deployment) -> None:
    # Given an expiry step whose announcement was refused after the survey was marked expired
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0)
    events = AwsCalls(send.PORTS.bus._events, "PutEvents")
    events.fail_next("AccessDeniedException", 400)
    recorder = BusRecorder(deployment)
    with pytest.raises(Exception, match="AccessDenied"):
        _rung(send, invitation, 3, token="first")
    assert _invitation(deployment, invitation["invitation_id"]["S"])["status"]["S"] == "expired"
    # When the lifecycle retries the step
    result = _rung(send, invitation, 3, token="second")
    # Then the expiry is announced this time (at least once, never lost) and the wait ends
    assert result["outcome"] == "expired"
    assert [e["detail-type"] for e in recorder.events()] == ["Survey Expired"]


def test_a_sent_message_whose_announcement_is_refused_stays_sent_and_is_counted(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given EventBridge refusing the Survey Invitation Sent of the invitation email
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    events = AwsCalls(send.PORTS.bus._events, "PutEvents")
    events.fail_next("InternalException", 500, times=10)
    capsys.readouterr()
    # When the lifecycle sends rung 0
    result = _rung(send, invitation, 0)
    # Then the email is out and the rung succeeds: the survey stays sent, not failed
    assert (result["outcome"], result["channel"], result["announced"]) == ("sent", "email", False)
    assert len(sent_emails()) == 1
    stored = _invitation(deployment, invitation["invitation_id"]["S"])
    assert stored["status"]["S"] == "sent"
    # and the lost event is counted for the AnnouncementsFailed alarm and logged
    stdout = capsys.readouterr().out
    totals, _ = emf_metrics(stdout)
    assert totals["AnnouncementsFailed"] == 1 and totals["MessagesSent"] == 1
    assert "Survey Invitation Sent event was refused" in caplog.text


def test_a_customer_who_opted_out_of_everything_is_not_invited(deployment: Deployment) -> None:
    # Given an invitation planned, then both channels opted out before it is sent
    invitation = _start(deployment)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        post_form(client, f"/u/{invitation['link_token']['S']}", "channel=email&channel=sms")
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with pytest.raises(Exception) as raised:
        _rung(send, invitation, 0)
    assert type(raised.value).__name__ == "NoReachableChannel"
    assert str(raised.value) == "opted-out"
    assert sent_emails() == [] and sent_sms() == []


def _sent_counters(deployment: Deployment, invitation: dict[str, Any]) -> dict[str, str]:
    """The survey's "#sent" counters of the whole series ("all"), on the send's day."""
    found = counters(
        deployment.client("dynamodb"),
        deployment.physical_id("AggregatesTable"),
        "post-purchase#sent",
    ).get("2026-11-16#all", {})
    return {k: str(n) for k, n in found.items()}


def test_a_message_out_whose_record_fails_keeps_the_survey_open_and_is_never_sent_again(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given DynamoDB failing for good the moment SES has accepted the invitation email
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    outage = DynamoDbOutage(send.PORTS.repos)
    send.PORTS.mailer._ses.meta.events.register("after-call.sesv2.SendEmail", outage.start)
    capsys.readouterr()
    # When the lifecycle sends rung 0
    result = _rung(send, invitation, 0, token="first")
    outage.stop()
    # Then the rung does not fail (the lifecycle would retry it or mark the survey failed): it
    # is sent, not recorded, and counted for the SentNotRecorded alarm
    assert (result["outcome"], result["channel"], result["recorded"]) == ("sent", "email", False)
    assert outage.failed >= 8  # the record's own retries were spent
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert totals["SentNotRecorded"] == 1 and totals["MessagesSent"] == 1
    assert "recording it failed" in caplog.text and EMAIL not in caplog.text
    # and its intent, written before the email went, stands for it: sent once, counted once
    attempts = _attempts(deployment, invitation)
    assert [(a["rung"], a["channel"], a["outcome"]) for a in attempts] == [
        ("0", "email", "sending")
    ]
    assert _sent_counters(deployment, invitation) == {
        "invitations": "1",
        "email_invitations": "1",
        "email_messages": "1",
    }
    # and the survey's link still opens (the survey is not failed)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        assert client.http.get(f"/s/{invitation['link_token']['S']}").status_code == 200
    # When the lifecycle runs the rung again (a retry)
    again = _rung(send, invitation, 0, token="second")
    # Then nothing is sent twice, and the customer can still answer
    assert again["outcome"] == "repeated"
    assert len(sent_emails()) == 1
    _answer_by_link(deployment, invitation)


def test_a_message_not_taken_is_withdrawn_and_counted_back(deployment: Deployment) -> None:
    # Given SES refusing the invitation email, and then throttling the SMS that stands in
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    AwsCalls(send.PORTS.mailer._ses, "SendEmail").fail_next("MessageRejected", times=2)
    AwsCalls(send.PORTS.sms._sns, "Publish").fail_next("Throttled")
    # When the lifecycle sends rung 0
    with pytest.raises(Exception) as raised:
        _rung(send, invitation, 0)
    # Then the rung is retried (SendThrottled), the refused email stays recorded as failed,
    # the SMS is withdrawn, and nothing is counted as sent
    assert type(raised.value).__name__ == "SendThrottled"
    attempts = _attempts(deployment, invitation)
    assert [(a["channel"], a["outcome"]) for a in attempts] == [("email", "failed")]
    assert _sent_counters(deployment, invitation) == {}
    stored = _invitation(deployment, invitation["invitation_id"]["S"])
    assert "contacted_at" not in stored  # nothing reached the customer: it may be marked failed
    # When the retried rung goes through
    result = _rung(send, invitation, 0, token="retry")
    # Then the SMS is counted once, as the invitation
    assert (result["outcome"], result["channel"]) == ("sent", "sms")
    assert _sent_counters(deployment, invitation) == {
        "invitations": "1",
        "sms_invitations": "1",
        "sms_messages": "1",
    }
    assert _invitation(deployment, invitation["invitation_id"]["S"])["contacted_at"]["S"] == (
        "2026-11-16T10:00:00Z"
    )
