"""The suppression list: addresses that get no survey messages, stored only as hashes.

An opt-out or a hard bounce belongs to the address, not to one customer record: the same
address may come back under another customer id, or after the customer's data was erased, and
must stay suppressed. Keys are "<channel>#<sha256 of the normalized address>", so the table
holds no address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from ..clock import iso
from .models import Suppression


def address_key(channel: str, address: str) -> str:
    # Email is compared case-insensitively as a whole: suppressing a little more is the safe
    # side. Phone numbers are E.164 already (eligibility.normalize_phone).
    normalized = address.strip().lower() if channel == "email" else address.strip()
    return f"{channel}#{hashlib.sha256(normalized.encode('utf-8')).hexdigest()}"


def suppressions_of(addresses: Mapping[str, str | None]) -> dict[str, str]:
    """For {channel: address}, the channels whose address is suppressed, with the reason.

    One consistent BatchGetItem, so an opt-out recorded a moment ago already holds."""
    keys = {
        address_key(channel, address): channel for channel, address in addresses.items() if address
    }
    if not keys:
        return {}
    return {
        keys[item.address_key]: item.reason
        for item in Suppression.batch_get(list(keys), consistent_read=True)
    }


def suppress(
    *,
    channel: str,
    address: str,
    reason: str,
    source: str,
    at: datetime,
    invitation_id: str | None = None,
) -> None:
    """Record the address as suppressed; a later reason replaces an earlier one."""
    suppress_key(
        address_key(channel, address),
        reason=reason,
        source=source,
        at=at,
        invitation_id=invitation_id,
    )


def suppress_key(
    key: str,
    *,
    reason: str,
    source: str,
    at: datetime,
    invitation_id: str | None = None,
) -> None:
    """Record an address known only by its key (address_key: a message's attempt keeps the key
    of the address it went to) as suppressed; a later reason replaces an earlier one."""
    channel, separator, digest = key.partition("#")
    if not separator or channel not in ("email", "sms") or len(digest) != 64:
        raise ValueError("not a suppression key")
    Suppression(
        key,
        channel=channel,
        reason=reason,
        source=source,
        at=iso(at),
        invitation_id=invitation_id,
    ).save()
