"""The suppression list: addresses that get no survey messages, known only by their hashes.

An opt-out or a hard bounce belongs to the address, not to one customer record: the same
address may come back under another customer id, or after the customer's data was erased, and
must stay suppressed. Keys are "<channel>#<sha256 of the normalized address>", so the list
holds no address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol

from msgspec import Struct

CHANNELS = ("email", "sms")


def address_key(channel: str, address: str) -> str:
    # Email is compared case-insensitively as a whole: suppressing a little more is the safe
    # side. Phone numbers are E.164 already (eligibility.normalize_phone).
    normalized = address.strip().lower() if channel == "email" else address.strip()
    return f"{channel}#{hashlib.sha256(normalized.encode('utf-8')).hexdigest()}"


class Suppression(Struct, frozen=True):
    """One suppressed address; a later record of the same key replaces an earlier one."""

    key: str  # address_key: a message's attempt keeps the key of the address it went to
    reason: str
    source: str
    at: datetime
    invitation_id: str | None = None

    def __post_init__(self) -> None:
        channel, separator, digest = self.key.partition("#")
        if not separator or channel not in CHANNELS or len(digest) != 64:
            raise ValueError("not a suppression key")

    @property
    def channel(self) -> str:
        return self.key.partition("#")[0]

    @classmethod
    def of_address(
        cls,
        channel: str,
        address: str,
        *,
        reason: str,
        source: str,
        at: datetime,
        invitation_id: str | None = None,
    ) -> Suppression:
        return cls(address_key(channel, address), reason, source, at, invitation_id)


class Suppressions(Protocol):
    def add(self, suppression: Suppression) -> None:
        """Record it, replacing what the key had."""

    def reasons(self, keys: Collection[str]) -> dict[str, str]:
        """The reason per suppressed key among `keys`, read consistently: an opt-out recorded
        a moment ago already holds."""


def suppressed_channels(
    suppressions: Suppressions, addresses: Mapping[str, str | None]
) -> dict[str, str]:
    """For {channel: address}, the channels whose address is suppressed, with the reason."""
    keys = {
        address_key(channel, address): channel for channel, address in addresses.items() if address
    }
    if not keys:
        return {}
    return {keys[key]: reason for key, reason in suppressions.reasons(list(keys)).items()}
