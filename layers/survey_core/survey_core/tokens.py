"""Identifiers: deterministic invitation ids (idempotency) and unguessable link tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

LINK_TOKEN_BYTES = 16  # 128 bits of randomness
_LINK_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_link_token() -> str:
    """22 URL-safe characters: short enough for one SMS, impossible to guess or enumerate."""
    return secrets.token_urlsafe(LINK_TOKEN_BYTES)


def is_well_formed_link_token(token: str) -> bool:
    return bool(_LINK_TOKEN.match(token))


def invitation_id(survey_id: str, business_key: str) -> str:
    """The same business event for the same survey always maps to the same invitation.

    32 hex characters: also a valid Step Functions execution name, so a repeated start is
    recognised there too.
    """
    digest = hashlib.sha256(f"{survey_id}\x1f{business_key}".encode()).hexdigest()
    return digest[:32]
