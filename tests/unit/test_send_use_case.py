"""The send step (logic/send.py: send_rung, expire, expire_closed) on the in-memory
repositories and gateway fakes: no moto. The same paths against the template's tables are in
tests/integration/test_send.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.catalogue import load_catalogue
from survey_core.clock import iso
from survey_core.config import SendConfig
from survey_core.domain.customers import Sighting
from survey_core.domain.invitations import Invitation
from survey_core.domain.repositories import Repositories
from survey_core.domain.suppressions import Suppression
from survey_core.errors import NoReachableChannel, NotRecorded, SendThrottled
from survey_core.logic.send import SendPorts, SendRequest, SendResult, expire_closed, send_rung
from survey_core.rules.eligibility import UNSUBSCRIBED
from survey_core.tokens import new_link_token

from tests.gateways import FakeBus, FakeExpiries, FakeLifecycle, FakeMailer, FakeSms
from tests.repositories import MemoryInvitations, memory_repositories
from tests.unit.test_trigger_use_case import ENVIRONMENT

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
SEND_ENVIRONMENT = {
    **ENVIRONMENT,
    "LOCAL_CLOCK": f"{NOW.isoformat()}|0|0",  # scale 0: the clock stands still
    "SENDER_EMAIL": "surveys@example.com",
    "EMAIL_CONFIGURATION_SET": "feedback-surveys",
    "SURVEY_BASE_URL": "https://surveys.example.com",
    "EXPIRY_SCHEDULE_GROUP": "survey-expiries",
    "EXPIRY_SCHEDULE_ROLE_ARN": "arn:aws:iam::123456789012:role/expiry",
}
CONFIG = SendConfig.from_env(SEND_ENVIRONMENT)
CATALOGUE = load_catalogue()
EMAIL = "maija.meikalainen@example.com"
PHONE = "+358401234567"
FUNCTION_ARN = "arn:aws:lambda:eu-north-1:123456789012:function:send"


def send_ports() -> SendPorts:
    gateways = (FakeLifecycle(), FakeMailer(), FakeSms(), FakeBus(), FakeExpiries())
    return SendPorts(*gateways, memory_repositories())  # type: ignore[arg-type]


def planned_invitation(repos: Repositories, **consent: bool) -> Invitation:
    """A post-purchase invitation as the trigger stores it: email now, an SMS reminder in 24 h,
    a last email 72 h after that; open three days after the last rung."""
    kept = NOW + timedelta(days=730)
    repos.customers.remember(
        Sighting("c-1", NOW, kept, "fi", email=EMAIL, phone=PHONE, consent=consent)
    )
    rung_at = [NOW, NOW + timedelta(hours=24), NOW + timedelta(hours=96)]
    invitation = Invitation(
        "inv-1",
        survey_id="post-purchase",
        customer_id="c-1",
        link_token=new_link_token(),
        language="fi",
        segment={"businessArea": "webshop"},
        channels=["email", "sms", "email"],
        rung_at=[iso(at) for at in rung_at],
        send_at=iso(NOW),
        closes_at=iso(rung_at[-1] + timedelta(hours=72)),
    )
    assert repos.invitations.create(invitation)
    return invitation


def rung(ports: SendPorts, number: int, token: str = "", **extra: Any) -> SendResult:
    request = SendRequest("inv-1", number, token or f"token-{number}", function_arn=FUNCTION_ARN)
    return send_rung(replace(request, **extra), CONFIG, CATALOGUE, ports)


def stored(ports: SendPorts) -> Invitation:
    invitation = ports.repos.invitations.get("inv-1")
    assert invitation is not None
    return invitation


def attempts(ports: SendPorts) -> list[tuple[int, str, str, str | None]]:
    return [(a.rung, a.channel, a.outcome, a.reason) for a in stored(ports).attempts]


def sent_counted(ports: SendPorts) -> dict[str, int]:
    """The survey's "#sent" counters of the send's day (Helsinki), over all segments."""
    total: dict[str, int] = {}
    for counter in ports.repos.counters.read("post-purchase#sent", "2026-11-16", "2026-11-16"):
        for name, n in counter.counts.items():
            total[name] = total.get(name, 0) + n
    return {name: n for name, n in total.items() if n}


def fakes(ports: SendPorts) -> tuple[FakeMailer, FakeSms, FakeLifecycle, FakeBus]:
    return ports.mailer, ports.sms, ports.lifecycle, ports.bus  # type: ignore[return-value]


def test_the_invitation_goes_by_email_after_its_intent_and_is_recorded_once() -> None:
    ports = send_ports()
    invitation = planned_invitation(ports.repos)
    mailer, sms, _, bus = fakes(ports)
    seen_by_ses: list[list[tuple[int, str, str, str | None]]] = []
    mailer.on_send = lambda: seen_by_ses.append(attempts(ports))

    result = rung(ports, 0)

    assert (result.outcome, result.channel, result.kind) == ("sent", "email", "invitation")
    [email] = mailer.sent
    assert email.to == [EMAIL] and sms.sent == []
    assert email.tags == {"invitation": "inv-1", "rung": "0"}
    assert f"https://surveys.example.com/s/{invitation.link_token}?score=10" in email.email.text
    # The intent was stored before SES was called; afterwards the same attempt is sent.
    assert seen_by_ses == [[(0, "email", "sending", None)]]
    assert attempts(ports) == [(0, "email", "sent", None)]
    after = stored(ports)
    assert (after.status, after.contacted_at) == ("sent", iso(NOW))
    assert ports.repos.invitations.task_token("inv-1") == "token-0"
    assert after.attempts[0].message_id == email.message_id
    assert sent_counted(ports) == {"invitations": 1, "email_invitations": 1, "email_messages": 1}
    customer = ports.repos.customers.get("c-1")
    assert customer is not None and customer.last_contact_at == iso(NOW)
    [announced] = bus.of_type("Survey Invitation Sent")
    assert [announced[key] for key in ("channel", "rung", "kind")] == ["email", 0, "invitation"]


def test_a_retried_rung_waits_on_the_new_token_without_sending_again() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, _, _, bus = fakes(ports)
    rung(ports, 0, token="first")

    again = rung(ports, 0, token="second")

    assert (again.outcome, again.channel) == ("repeated", "email")
    assert len(mailer.sent) == 1
    assert attempts(ports) == [(0, "email", "sent", None)]
    assert ports.repos.invitations.task_token("inv-1") == "second"
    assert sent_counted(ports) == {"invitations": 1, "email_invitations": 1, "email_messages": 1}
    assert len(bus.of_type("Survey Invitation Sent")) == 1


def test_the_reminder_goes_by_sms_and_the_last_one_by_email() -> None:
    ports = send_ports()
    invitation = planned_invitation(ports.repos)
    mailer, sms, _, _ = fakes(ports)

    results = [rung(ports, number) for number in range(3)]

    assert [(r.outcome, r.channel, r.kind) for r in results] == [
        ("sent", "email", "invitation"),
        ("sent", "sms", "reminder"),
        ("sent", "email", "last-reminder"),
    ]
    [(phone, text)] = sms.sent
    assert phone == PHONE
    assert text.startswith("Muistutus:") and invitation.link_token in text
    assert [e.to for e in mailer.sent] == [[EMAIL], [EMAIL]]
    assert mailer.sent[1].email.subject.startswith("Viimeinen muistutus")
    assert stored(ports).sms_address is not None  # an SMS reply can find the survey


def test_a_customer_who_answered_gets_no_reminder_and_the_wait_ends() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, sms, lifecycle, _ = fakes(ports)
    rung(ports, 0)
    invitations = ports.repos.invitations
    assert isinstance(invitations, MemoryInvitations)
    invitations.stored["inv-1"] = replace(stored(ports), status="answered")

    result = rung(ports, 1, token="reminder-token")

    assert (result.outcome, result.reason) == ("closed", "answered")
    assert sms.sent == [] and len(mailer.sent) == 1
    assert attempts(ports) == [(0, "email", "sent", None)]
    assert lifecycle.answered == [("reminder-token", {"status": "answered"})]


def test_an_unsubscribed_address_skips_its_reminder_with_the_reason() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, sms, _, _ = fakes(ports)
    rung(ports, 0)
    ports.repos.suppressions.add(
        Suppression.of_address("email", EMAIL, reason=UNSUBSCRIBED, source="web", at=NOW)
    )

    results = [rung(ports, 1), rung(ports, 2)]

    assert [(r.outcome, r.channel, r.reason) for r in results] == [
        ("sent", "sms", None),
        ("skipped", None, "opted-out"),
    ]
    assert len(mailer.sent) == 1 and len(sms.sent) == 1
    assert attempts(ports)[-1] == (2, "none", "skipped", "opted-out")


def test_withdrawn_sms_consent_skips_the_sms_reminder_with_the_reason() -> None:
    ports = send_ports()
    planned_invitation(ports.repos, sms=False)
    _, sms, _, _ = fakes(ports)
    rung(ports, 0)

    result = rung(ports, 1)

    assert (result.outcome, result.reason) == ("skipped", "opted-out")
    assert sms.sent == []
    assert attempts(ports) == [(0, "email", "sent", None), (1, "none", "skipped", "opted-out")]
    assert sent_counted(ports)["invitations"] == 1 and "sms_messages" not in sent_counted(ports)


def test_an_invitation_whose_email_is_suppressed_goes_by_sms() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, sms, _, _ = fakes(ports)
    ports.repos.suppressions.add(
        Suppression.of_address("email", EMAIL, reason=UNSUBSCRIBED, source="web", at=NOW)
    )

    result = rung(ports, 0)

    assert (result.outcome, result.channel, result.kind) == ("sent", "sms", "invitation")
    assert mailer.sent == [] and [phone for phone, _ in sms.sent] == [PHONE]
    assert attempts(ports) == [(0, "sms", "sent", None)]


def test_an_invitation_no_channel_can_take_fails_and_records_why() -> None:
    ports = send_ports()
    planned_invitation(ports.repos, email=False, sms=False)
    mailer, sms, _, _ = fakes(ports)

    with pytest.raises(NoReachableChannel, match="opted-out"):
        rung(ports, 0)

    assert mailer.sent == [] and sms.sent == []
    assert attempts(ports) == [(0, "none", "skipped", "opted-out")]
    assert sent_counted(ports) == {}


def test_one_past_the_last_rung_an_open_survey_expires_and_its_wait_ends() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    _, _, lifecycle, bus = fakes(ports)
    rung(ports, 0)

    result = rung(ports, 3, token="expiry-token")

    assert result.outcome == "expired"
    assert (stored(ports).status, stored(ports).updated_at) == ("expired", iso(NOW))
    assert bus.of_type("Survey Expired") == [
        {"version": "1", "invitationId": "inv-1", "expiredAt": iso(NOW)}
    ]
    assert lifecycle.answered == [("expiry-token", {"status": "expired"})]


def test_the_last_rung_plans_the_expiry_which_ends_the_wait_with_its_token() -> None:
    ports = send_ports()
    invitation = planned_invitation(ports.repos)
    _, _, lifecycle, bus = fakes(ports)
    expiries: FakeExpiries = ports.expiries  # type: ignore[assignment]
    rung(ports, 0)
    rung(ports, 1)
    assert expiries.planned == {}

    assert rung(ports, 2, token="last-token").expiry_planned
    payload = {"invitationId": "inv-1", "expire": True}
    closes_at = datetime.fromisoformat(str(invitation.closes_at))
    assert expiries.planned == {"expire-inv-1": (closes_at, FUNCTION_ARN, payload)}
    result = expire_closed("inv-1", CONFIG, ports)

    assert result.outcome == "expired" and stored(ports).status == "expired"
    assert lifecycle.answered == [("last-token", {"status": "expired"})]
    assert len(bus.of_type("Survey Expired")) == 1


def test_an_answered_survey_is_left_answered_when_its_expiry_runs() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    _, _, lifecycle, bus = fakes(ports)
    rung(ports, 0)
    rung(ports, 1)
    rung(ports, 2, token="last-token")
    invitations = ports.repos.invitations
    assert isinstance(invitations, MemoryInvitations)
    invitations.stored["inv-1"] = replace(stored(ports), status="answered")

    result = expire_closed("inv-1", CONFIG, ports)

    assert (result.outcome, result.reason) == ("closed", "answered")
    assert stored(ports).status == "answered"
    assert bus.of_type("Survey Expired") == []
    assert lifecycle.answered == [("last-token", {"status": "answered"})]


def test_a_message_ses_did_not_take_is_withdrawn_and_the_retry_sends_it_once() -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, _, _, _ = fakes(ports)
    mailer.fail = SendThrottled("SES: TooManyRequestsException")

    with pytest.raises(SendThrottled):
        rung(ports, 0, token="first")
    # Nothing went out: the intent is withdrawn and its counts taken back.
    assert mailer.sent == [] and attempts(ports) == []
    assert sent_counted(ports) == {} and stored(ports).contacted_at is None

    result = rung(ports, 0, token="retry")

    assert (result.outcome, result.channel) == ("sent", "email")
    assert len(mailer.sent) == 1 and attempts(ports) == [(0, "email", "sent", None)]
    assert sent_counted(ports) == {"invitations": 1, "email_invitations": 1, "email_messages": 1}


def test_a_message_out_whose_record_fails_keeps_its_intent_and_is_never_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = send_ports()
    planned_invitation(ports.repos)
    mailer, _, _, _ = fakes(ports)

    def record_fails(*args: Any, **kwargs: Any) -> None:
        raise NotRecorded("record_sent")

    with monkeypatch.context() as patched:
        patched.setattr(ports.repos.invitations, "record_sent", record_fails)
        result = rung(ports, 0, token="first")

    # SES took it: the rung succeeds, not recorded; its intent stands for it, counted once.
    assert (result.outcome, result.channel, result.recorded) == ("sent", "email", False)
    assert attempts(ports) == [(0, "email", "sending", None)]
    assert sent_counted(ports) == {"invitations": 1, "email_invitations": 1, "email_messages": 1}

    again = rung(ports, 0, token="second")

    assert (again.outcome, again.channel) == ("repeated", "email")
    assert len(mailer.sent) == 1
    assert ports.repos.invitations.task_token("inv-1") == "second"
