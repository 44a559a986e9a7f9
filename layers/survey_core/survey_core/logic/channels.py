"""Which channel a customer can be reached on: a contact point and no opt-out."""

from __future__ import annotations

from ..dal.models import Customer, Invitation


def usable(channel: str, customer: Customer) -> bool:
    if channel == "email":
        return bool(customer.email) and customer.consent_email is not False
    if channel == "sms":
        return bool(customer.phone) and customer.consent_sms is not False
    return False


def choose_channel(invitation: Invitation, customer: Customer, rung: int) -> str | None:
    """The rung's own channel if usable; the first rung falls back along the ladder."""
    channels = [str(channel) for channel in invitation.channels]
    if rung >= len(channels):
        return None
    if usable(channels[rung], customer):
        return channels[rung]
    if rung == 0:
        return next((c for c in channels[1:] if usable(c, customer)), None)
    return None
