"""Verify a Cognito ID token and say who signed in. Pure: the pool's keys come in through
`keys` (a kid -> JWK lookup: jwks.KeySet.get, or a dict's get in tests) and the time through
`now`; nothing here calls AWS.

Refused (TokenRefused, with a reason fit for a log line: never the token or a claim's value):
an alg other than RS256 (`none`, HS256 signed with the public key as secret), a kid the pool
does not have, a bad signature, another pool's issuer, another client's audience, an access
token, expired (or issued in the future) beyond the leeway, no role group, a malformed scope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from msgspec import Struct
from survey_core.access import SCOPE_ATTRIBUTE, AccessRefused, Role, Scope, access, role_from_groups

ALGORITHM = "RS256"
DEFAULT_LEEWAY = timedelta(seconds=30)
KeyLookup = Callable[[str], Mapping[str, Any] | None]  # kid -> the JWK, or None


class TokenRefused(Exception):
    """The token does not sign anyone in; str() is the reason, safe to log."""


class Pool(Struct, frozen=True):
    """What a token must come from: the user pool (its issuer) and the app client."""

    region: str
    user_pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        # Also what moto writes in its tokens (moto/cognitoidp/models.py, create_jwt).
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"


class Principal(Struct, frozen=True):
    user_id: str  # the user's sub: stable, not personal
    email: str | None
    role: Role
    scope: Scope
    token_id: str  # jti (or sub@iat when a token has none): binds CSRF tokens to this sign-in
    expires_at: datetime


def verify_id_token(
    token: str,
    *,
    pool: Pool,
    keys: KeyLookup,
    now: datetime,
    leeway: timedelta = DEFAULT_LEEWAY,
) -> Principal:
    claims = _verified_claims(token, pool, keys)
    expires_at = _check_times(claims, now, leeway)
    if claims.get("token_use") != "id":
        raise TokenRefused("not an ID token")
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise TokenRefused("no subject")
    groups = claims.get("cognito:groups") or []
    scope_text = claims.get(SCOPE_ATTRIBUTE)
    if not isinstance(groups, list) or not isinstance(scope_text, str | None):
        raise TokenRefused("malformed groups or scope claim")
    try:
        role = role_from_groups(str(g) for g in groups)
        scope = access(role, scope_text)
    except AccessRefused as refused:
        raise TokenRefused(str(refused)) from None
    email = claims.get("email")
    jti = claims.get("jti")
    return Principal(
        user_id=user_id,
        email=email if isinstance(email, str) else None,
        role=role,
        scope=scope,
        token_id=jti if isinstance(jti, str) and jti else f"{user_id}@{claims['iat']}",
        expires_at=expires_at,
    )


def _signing_key(token: str, keys: KeyLookup) -> jwt.PyJWK:
    """The pool's key the token's header names, if the header asks for RS256 exactly."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefused("not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise TokenRefused("algorithm is not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("no key id")
    jwk = keys(kid)
    if jwk is None:
        raise TokenRefused("unknown key id")
    if jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise TokenRefused("the pool's key is not an RS256 key")
    try:
        return jwt.PyJWK(dict(jwk), algorithm=ALGORITHM)
    except jwt.PyJWTError:
        raise TokenRefused("the pool's key cannot be read") from None


def _verified_claims(token: str, pool: Pool, keys: KeyLookup) -> dict[str, Any]:
    key = _signing_key(token, keys)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            audience=pool.client_id,
            issuer=pool.issuer,
            # Times are checked against the injected clock (_check_times), not PyJWT's.
            options={
                "require": ["iss", "aud", "sub", "exp", "iat", "token_use"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused("bad signature") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("another issuer (user pool)") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("another audience (app client)") from None
    except jwt.MissingRequiredClaimError as missing:
        raise TokenRefused(f"no {missing.claim} claim") from None
    except (jwt.PyJWTError, json.JSONDecodeError, ValueError, TypeError):
        raise TokenRefused("malformed token") from None
    return claims


def _check_times(claims: Mapping[str, Any], now: datetime, leeway: timedelta) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    moments = {}
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenRefused(f"malformed {name} claim")
        moments[name] = datetime.fromtimestamp(value, tz=UTC)
    if moments["exp"] + leeway <= now:
        raise TokenRefused("expired")
    if moments["iat"] - leeway > now or ("nbf" in moments and moments["nbf"] - leeway > now):
        raise TokenRefused("not valid yet")
    return moments["exp"]
