"""Opting out from the link in a survey email: a page to confirm, then the suppression list.

GET shows the choice (never unsubscribes: mail scanners open links); the form's POST records
it. A mail client's one-click POST (RFC 8058 body "List-Unsubscribe=One-Click") records the
email opt-out at once. The opt-out is stored for the address, so it holds for every later
survey and survives the customer's data being erased.
"""

from __future__ import annotations

from ..catalogue import Catalogue
from ..clock import Clock
from ..dal import store
from ..dal.models import Customer, Invitation
from ..dal.suppressions import suppress
from ..eligibility import UNSUBSCRIBED
from ..email_message import ONE_CLICK
from ..forms import Form, first
from ..i18n import text
from ..rendering import render_unsubscribe_page, render_unsubscribed_page
from .collect import Page, find_invitation

CHANNELS = ("email", "sms")


def _addresses(customer: Customer | None) -> dict[str, str]:
    if customer is None:
        return {}
    found = {"email": customer.email, "sms": customer.phone}
    return {channel: str(address) for channel, address in found.items() if address}


def _choice_page(
    invitation: Invitation,
    addresses: dict[str, str],
    catalogue: Catalogue,
    action_url: str,
    checked: list[str],
    error: str | None,
) -> str:
    return render_unsubscribe_page(
        language=invitation.language,
        company=catalogue.company,
        action_url=action_url,
        channels=[c for c in CHANNELS if c in addresses] or ["email"],
        checked=checked,
        error=error,
    )


def show_unsubscribe(token: str, action_url: str, catalogue: Catalogue) -> Page:
    invitation = find_invitation(token)  # closed surveys too: old emails still unsubscribe
    addresses = _addresses(store.get_customer(invitation.customer_id))
    # The link came in an email: that is the channel offered checked.
    html = _choice_page(invitation, addresses, catalogue, action_url, ["email"], None)
    return Page(200, html, invitation_id=invitation.invitation_id)


def is_one_click(form: Form) -> bool:
    name, _, value = ONE_CLICK.partition("=")
    return first(form, name) == value


def unsubscribe(
    token: str, form: Form, action_url: str, catalogue: Catalogue, clock: Clock
) -> tuple[Page, list[str]]:
    """Record the opt-out; returns the page and the channels opted out (for metrics)."""
    invitation = find_invitation(token)
    addresses = _addresses(store.get_customer(invitation.customer_id))
    one_click = is_one_click(form)
    chosen = ["email"] if one_click else [c for c in CHANNELS if c in form.get("channel", [])]
    if not chosen:
        error = text(invitation.language, "error_nothing_chosen")
        html = _choice_page(invitation, addresses, catalogue, action_url, [], error)
        return Page(400, html, invitation_id=invitation.invitation_id), []
    now = clock()
    for channel in chosen:
        address = addresses.get(channel)
        if address:  # nothing on file for the channel: nothing can be sent there anyway
            suppress(
                channel=channel,
                address=address,
                reason=UNSUBSCRIBED,
                source="one-click" if one_click else "link",
                at=now,
                invitation_id=invitation.invitation_id,
            )
    html = render_unsubscribed_page(language=invitation.language, company=catalogue.company)
    return Page(200, html, invitation_id=invitation.invitation_id), chosen
