"""Which channels reach a customer, and which channel each rung of the ladder goes on.

Checked when the trigger plans the ladder and again at every message: consent, an opt-out or a
bounce may have come in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from msgspec import Struct

from ..domain.customers import Customer
from ..domain.invitations import Invitation
from ..domain.suppressions import Suppressions, suppressed_channels
from ..rules.eligibility import ChannelState, CustomerFacts


def customer_facts(
    customer: Customer,
    suppressed: Mapping[str, str],
    *,
    email_invalid: bool = False,
    phone_invalid: bool = False,
) -> CustomerFacts:
    """The rules' view of a stored customer; suppressed is {channel: reason} of their
    addresses on the suppression list."""
    return CustomerFacts(
        customer_id=customer.customer_id,
        email=ChannelState(
            address=customer.email,
            given_but_invalid=email_invalid,
            consent=customer.consent_email is not False,
            suppressed=suppressed.get("email"),
        ),
        sms=ChannelState(
            address=customer.phone,
            given_but_invalid=phone_invalid,
            consent=customer.consent_sms is not False,
            suppressed=suppressed.get("sms"),
        ),
        time_zone=customer.time_zone,
        last_contact_at=(
            datetime.fromisoformat(customer.last_contact_at) if customer.last_contact_at else None
        ),
    )


def current_facts(customer: Customer, suppressions: Suppressions) -> CustomerFacts:
    """A stored customer as the rules see them now, their addresses checked against the
    suppression list (one read)."""
    addresses = {"email": customer.email, "sms": customer.phone}
    return customer_facts(customer, suppressed_channels(suppressions, addresses))


class RungChannels(Struct, frozen=True):
    """The channels to try for one rung, in order, and why the rung's own channel is out."""

    candidates: tuple[str, ...]
    skipped_because: str | None  # the planned channel's problem, when it cannot be used


def rung_channels(
    invitation: Invitation, rung: int, fallback_channel: str | None, facts: CustomerFacts
) -> RungChannels:
    """The rung's planned channel if it still reaches the customer.

    The invitation (rung 0) must go out: when its channel is out, or refused, the ladder's other
    usable channels follow. A reminder whose channel is out is skipped: the ladder goes on at
    its planned times. A fallback (after a bounce) uses only the fallback channel.
    """
    planned = fallback_channel or planned_channel(invitation, rung)
    if planned is None:
        return RungChannels((), "not-planned")
    problem = facts.channel(planned).problem
    candidates = [] if problem else [planned]
    if rung == 0 and fallback_channel is None:
        candidates += [
            channel
            for channel in dict.fromkeys(str(c) for c in invitation.channels)
            if channel != planned and facts.channel(channel).problem is None
        ]
    return RungChannels(tuple(candidates), problem)


def planned_channel(invitation: Invitation, rung: int) -> str | None:
    channels = [str(channel) for channel in invitation.channels]
    return channels[rung] if 0 <= rung < len(channels) else None
