"""Which channel a customer can be reached on: a contact point and no opt-out."""

from __future__ import annotations

from ..dal.models import Customer, Invitation
from ..eligibility import ChannelState


def usable(channel: str, customer: Customer) -> bool:
    """Checked again at every send: consent given at trigger time may have been withdrawn."""
    if channel == "email":
        state = ChannelState(customer.email, consent=customer.consent_email is not False)
    elif channel == "sms":
        state = ChannelState(customer.phone, consent=customer.consent_sms is not False)
    else:
        return False
    return state.problem is None


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
