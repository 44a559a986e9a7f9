"""The unsubscribe page and the one-click unsubscribe (logic/optout.py: show_unsubscribe,
unsubscribe) on the in-memory repositories: no moto. The messages are sent by the send step on
the same fakes, so the opt-out suppresses the addresses as the attempts recorded them. The same
paths through the collect app and the template's tables are in tests/integration/test_optout.py;
the keys per attempt and address (opt_out_keys) are in tests/unit/test_logic.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace
from survey_core.domain.customers import Sighting
from survey_core.domain.suppressions import Suppression, address_key
from survey_core.errors import InvitationNotFound
from survey_core.logic.collect import Page
from survey_core.logic.optout import show_unsubscribe, unsubscribe
from survey_core.logic.send import SendPorts
from survey_core.rules.eligibility import UNSUBSCRIBED
from survey_core.tokens import new_link_token
from survey_core.web.forms import Form

from tests.repositories import MemorySuppressions
from tests.unit.test_send_use_case import (
    CATALOGUE,
    EMAIL,
    NOW,
    PHONE,
    fakes,
    planned_invitation,
    rung,
    send_ports,
    stored,
)

pytestmark = pytest.mark.unit

ACTION = "/u/action"
ONE_CLICK: Form = {"List-Unsubscribe": ["One-Click"]}
NEW_EMAIL = "maija.uusi@example.com"
NEW_PHONE = "+358409998877"


def opt_out(ports: SendPorts, form: Form, token: str | None = None) -> tuple[Page, list[str]]:
    if token is None:
        token = stored(ports).link_token or ""
    return unsubscribe(token, form, ACTION, CATALOGUE, lambda: NOW, ports.repos)


def suppressions(ports: SendPorts) -> dict[str, Suppression]:
    found = ports.repos.suppressions
    assert isinstance(found, MemorySuppressions)
    return dict(found.stored)


def sent_email_and_sms() -> SendPorts:
    """The invitation email (rung 0) and the SMS reminder (rung 1) sent."""
    ports = send_ports()
    planned_invitation(ports.repos)
    assert rung(ports, 0).channel == "email"
    assert rung(ports, 1).channel == "sms"
    return ports


def change_addresses(ports: SendPorts, **consent: bool) -> None:
    """A product system tells of the customer's new email and phone (and consent, if given)."""
    kept = NOW + timedelta(days=730)
    sighting = Sighting("c-1", NOW, kept, "fi", email=NEW_EMAIL, phone=NEW_PHONE, consent=consent)
    ports.repos.customers.remember(sighting)


def test_the_link_shows_the_choice_and_suppresses_nothing() -> None:
    ports = sent_email_and_sms()

    page = show_unsubscribe(stored(ports).link_token or "", ACTION, CATALOGUE, ports.repos)

    assert (page.status, page.invitation_id) == (200, "inv-1")
    assert '<html lang="fi">' in page.html
    assert 'name="channel" id="channel-email" value="email" checked' in page.html
    assert 'id="channel-sms" value="sms">' in page.html  # offered, not chosen
    assert f'action="{ACTION}"' in page.html
    # A mail scanner opening the link unsubscribes nobody.
    assert suppressions(ports) == {}


def test_the_form_suppresses_the_addresses_the_messages_went_to_not_the_new_ones() -> None:
    # Given the email and the SMS sent, and then the customer's addresses changed
    ports = sent_email_and_sms()
    change_addresses(ports)

    # When the customer opts out of both by the link
    page, chosen = opt_out(ports, {"channel": ["email", "sms"]})

    # Then the thank-you page, and the addresses that got the messages are suppressed by their
    # hash keys (never the address itself), as unsubscribed from the link
    assert (page.status, page.invitation_id, chosen) == (200, "inv-1", ["email", "sms"])
    assert "Kyselyviestit lopetettu" in page.html
    found = suppressions(ports)
    assert set(found) == {address_key("email", EMAIL), address_key("sms", PHONE)}
    assert {(s.reason, s.source, s.at, s.invitation_id) for s in found.values()} == {
        (UNSUBSCRIBED, "link", NOW, "inv-1")
    }
    assert EMAIL not in str(found) and PHONE not in str(found)


def test_one_click_suppresses_only_the_email_address() -> None:
    ports = sent_email_and_sms()

    page, chosen = opt_out(ports, ONE_CLICK)

    assert (page.status, chosen) == (200, ["email"])
    [(key, suppression)] = suppressions(ports).items()
    assert key == address_key("email", EMAIL)
    assert (suppression.reason, suppression.source) == (UNSUBSCRIBED, "one-click")


def test_the_opt_out_holds_for_the_next_message_even_when_consent_comes_again() -> None:
    # Given the customer opted out of email by the link
    ports = sent_email_and_sms()
    opt_out(ports, {"channel": ["email"]})
    # and a product system then sends the same address with email consent again
    kept = NOW + timedelta(days=730)
    ports.repos.customers.remember(
        Sighting("c-1", NOW, kept, "fi", email=EMAIL, phone=PHONE, consent={"email": True})
    )

    # When the last rung (an email) comes
    last = rung(ports, 2)

    # Then it is skipped as opted out, and no second email went
    assert (last.outcome, last.reason) == ("skipped", "opted-out")
    assert len(fakes(ports)[0].sent) == 1


def test_unsubscribing_again_changes_nothing() -> None:
    ports = sent_email_and_sms()
    opt_out(ports, {"channel": ["email", "sms"]})
    before = suppressions(ports)

    page, chosen = opt_out(ports, {"channel": ["email", "sms"]})
    again, _ = opt_out(ports, ONE_CLICK)

    assert (page.status, again.status, chosen) == (200, 200, ["email", "sms"])
    assert set(suppressions(ports)) == set(before)
    assert {s.reason for s in suppressions(ports).values()} == {UNSUBSCRIBED}


@pytest.mark.parametrize(
    "form", [{}, {"channel": []}, {"channel": ["fax"]}], ids=["no-field", "none", "unknown"]
)
def test_choosing_nothing_asks_again_and_suppresses_nothing(form: Form) -> None:
    ports = sent_email_and_sms()

    page, chosen = opt_out(ports, form)

    assert (page.status, chosen) == (400, [])
    assert "Valitse vähintään yksi." in page.html
    assert 'value="email" checked' not in page.html  # nothing is chosen for them
    assert suppressions(ports) == {}


@pytest.mark.parametrize(
    "token",
    [new_link_token(), "x" * 22, "not a token", ""],
    ids=["unknown", "unknown-xs", "malformed", "empty"],
)
def test_an_unknown_or_malformed_token_is_refused_and_changes_nothing(token: str) -> None:
    ports = sent_email_and_sms()

    with pytest.raises(InvitationNotFound):
        show_unsubscribe(token, ACTION, CATALOGUE, ports.repos)
    with pytest.raises(InvitationNotFound):
        opt_out(ports, {"channel": ["email", "sms"]}, token=token)
    with pytest.raises(InvitationNotFound):
        opt_out(ports, ONE_CLICK, token=token)
    assert suppressions(ports) == {}


def test_before_any_message_the_customers_current_address_is_suppressed() -> None:
    # Given an invitation nothing was sent for yet (a forwarded or early link)
    ports = send_ports()
    planned_invitation(ports.repos)

    page, _ = opt_out(ports, {"channel": ["sms"]})

    assert page.status == 200
    assert set(suppressions(ports)) == {address_key("sms", PHONE)}


def test_a_closed_survey_still_unsubscribes() -> None:
    ports = sent_email_and_sms()
    invitations = ports.repos.invitations
    invitations.stored["inv-1"] = replace(stored(ports), status="expired")  # type: ignore[attr-defined]

    page, _ = opt_out(ports, ONE_CLICK)

    assert page.status == 200
    assert set(suppressions(ports)) == {address_key("email", EMAIL)}


def test_after_an_erasure_the_addresses_the_messages_went_to_are_still_suppressed() -> None:
    # Given the customer's data erased after the messages went (the invitation keeps its keys)
    ports = sent_email_and_sms()
    del ports.repos.customers.stored["c-1"]  # type: ignore[attr-defined]

    page, chosen = opt_out(ports, {"channel": ["email", "sms"]})

    assert (page.status, chosen) == (200, ["email", "sms"])
    assert set(suppressions(ports)) == {address_key("email", EMAIL), address_key("sms", PHONE)}
