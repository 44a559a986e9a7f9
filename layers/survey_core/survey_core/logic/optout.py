"""Opting out from the link in a survey email: a page to confirm, then the suppression list.

GET shows the choice (never unsubscribes: mail scanners open links); the form's POST records
it. A mail client's one-click POST (RFC 8058 body "List-Unsubscribe=One-Click") records the
email opt-out at once. The opt-out is stored for the address, so it holds for every later
survey and survives the customer's data being erased.

The address is the one the invitation's messages went to (each attempt keeps its suppression
key), not the customer's address now: after an address change, the address that got the link
is the one that asked to be left alone. The link is the same in every message of the
invitation, so every address it reached on the channel is suppressed (usually one). A channel
the invitation sent nothing on, or a message older than the keys, falls back to the customer's
current address: where the next message would go.
"""

from __future__ import annotations

from ..catalogue import Catalogue
from ..clock import Clock
from ..domain.customers import Customer
from ..domain.invitations import Invitation
from ..domain.repositories import Repositories
from ..domain.suppressions import Suppression, address_key
from ..messages.i18n import text
from ..messages.one_click import ONE_CLICK
from ..messages.rendering import render_unsubscribe_page, render_unsubscribed_page
from ..rules.eligibility import UNSUBSCRIBED
from ..web.forms import Form, first
from .collect import Page, find_invitation
from .counting import REACHED

CHANNELS = ("email", "sms")


def _addresses(customer: Customer | None) -> dict[str, str]:
    if customer is None:
        return {}
    found = {"email": customer.email, "sms": customer.phone}
    return {channel: str(address) for channel, address in found.items() if address}


def opt_out_keys(invitation: Invitation, customer: Customer | None) -> dict[str, list[str]]:
    """Per channel, the suppression keys an opt-out on it records: the address of each message
    of the invitation that may have reached the customer there; and the customer's current
    address when the invitation sent nothing there, or sent a message that has no key (an
    invitation from before the keys). A channel with neither is not in the answer."""
    current = _addresses(customer)
    keys: dict[str, list[str]] = {}
    for channel in CHANNELS:
        reached = [a for a in invitation.attempts if a.channel == channel and a.outcome in REACHED]
        found = list(dict.fromkeys(str(a.address_key) for a in reached if a.address_key))
        if (not reached or any(not a.address_key for a in reached)) and channel in current:
            found = list(dict.fromkeys([*found, address_key(channel, current[channel])]))
        if found:
            keys[channel] = found
    return keys


def _choice_page(
    invitation: Invitation,
    keys: dict[str, list[str]],
    catalogue: Catalogue,
    action_url: str,
    checked: list[str],
    error: str | None,
) -> str:
    return render_unsubscribe_page(
        language=invitation.language,
        company=catalogue.company,
        brand=catalogue.brand,
        action_url=action_url,
        # The channels the invitation used or the customer has an address on: only there does
        # an opt-out suppress anything. Consent and earlier opt-outs do not hide a channel: the
        # opt-out holds even when a product system later sends consent again.
        channels=[c for c in CHANNELS if c in keys] or ["email"],
        checked=checked,
        error=error,
    )


def show_unsubscribe(
    token: str, action_url: str, catalogue: Catalogue, repos: Repositories
) -> Page:
    # Closed surveys too: old emails still unsubscribe.
    invitation = find_invitation(token, repos.invitations)
    keys = opt_out_keys(invitation, repos.customers.get(invitation.customer_id))
    # The link came in an email: that is the channel offered checked.
    html = _choice_page(invitation, keys, catalogue, action_url, ["email"], None)
    return Page(200, html, invitation_id=invitation.invitation_id)


def is_one_click(form: Form) -> bool:
    name, _, value = ONE_CLICK.partition("=")
    return first(form, name) == value


def unsubscribe(
    token: str,
    form: Form,
    action_url: str,
    catalogue: Catalogue,
    clock: Clock,
    repos: Repositories,
) -> tuple[Page, list[str]]:
    """Record the opt-out; returns the page and the channels opted out (for metrics)."""
    invitation = find_invitation(token, repos.invitations)
    keys = opt_out_keys(invitation, repos.customers.get(invitation.customer_id))
    one_click = is_one_click(form)
    chosen = ["email"] if one_click else [c for c in CHANNELS if c in form.get("channel", [])]
    if not chosen:
        error = text(invitation.language, "error_nothing_chosen")
        html = _choice_page(invitation, keys, catalogue, action_url, [], error)
        return Page(400, html, invitation_id=invitation.invitation_id), []
    now = clock()
    for channel in chosen:
        # No key for the channel: nothing on file there, so nothing can be sent there anyway.
        for key in keys.get(channel, []):
            repos.suppressions.add(
                Suppression(
                    key,
                    reason=UNSUBSCRIBED,
                    source="one-click" if one_click else "link",
                    at=now,
                    invitation_id=invitation.invitation_id,
                )
            )
    html = render_unsubscribed_page(
        language=invitation.language, company=catalogue.company, brand=catalogue.brand
    )
    return Page(200, html, invitation_id=invitation.invitation_id), chosen
