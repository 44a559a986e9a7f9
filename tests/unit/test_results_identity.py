"""The results view's token verifier against tokens signed here with RSA keys made in the test:
what signs a user in, and every way a token is refused. Fixed clocks; no sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from survey_core.access import (
    ALL,
    AccessRefused,
    Role,
    Scope,
    ScopeKind,
    access,
    parse_scope,
    role_from_groups,
)

from functions.results.results_auth.identity import Pool, TokenRefused, verify_id_token
from functions.results.results_auth.jwks import KeySet, KeysUnavailable, jwks_url, parse_jwks

pytestmark = pytest.mark.unit

POOL = Pool(region="eu-north-1", user_pool_id="eu-north-1_AbCdEf123", client_id="client123")
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
KID = "key-1"


@cache
def _private_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(name: str = "pool", kid: str = KID) -> dict[str, Any]:
    public = _private_key(name).public_key()
    key: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    return {**key, "kid": kid, "alg": "RS256", "use": "sig"}


KEYS = {KID: _jwk()}


def _claims(**changes: Any) -> dict[str, Any]:
    issued = int(NOW.timestamp()) - 60
    claims = {
        "iss": POOL.issuer,
        "aud": POOL.client_id,
        "sub": "5f1d7a2e-0000-4000-8000-000000000001",
        "token_use": "id",
        "iat": issued,
        "auth_time": issued,
        "exp": issued + 3600,
        "jti": "jti-1",
        "email": "manager@example.com",
        "cognito:groups": ["manager"],
        "custom:scope": "business_area=webshop",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any] | None = None, *, signer: str = "pool", kid: str = KID) -> str:
    return jwt.encode(
        claims if claims is not None else _claims(),
        _private_key(signer),
        algorithm="RS256",
        headers={"kid": kid},
    )


def _verify(token: str, now: datetime = NOW) -> Any:
    return verify_id_token(token, pool=POOL, keys=KEYS.get, now=now)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def test_a_valid_token_signs_in_with_role_and_scope() -> None:
    # Given an ID token of the pool, for the client, of a manager of one business area
    # When it is verified
    principal = _verify(_token())
    # Then the principal carries the user, role and scope
    assert principal.user_id == "5f1d7a2e-0000-4000-8000-000000000001"
    assert principal.email == "manager@example.com"
    assert principal.role is Role.MANAGER
    assert principal.scope == Scope(ScopeKind.BUSINESS_AREA, "webshop")
    assert principal.token_id == "jti-1"
    assert principal.expires_at == datetime.fromtimestamp(_claims()["exp"], tz=UTC)


@pytest.mark.parametrize(
    ("changes", "role", "scope"),
    [
        ({"cognito:groups": ["cx-admin"], "custom:scope": None}, Role.CX_ADMIN, ALL),
        # A cx-admin sees everything whatever the attribute says.
        ({"cognito:groups": ["cx-admin"]}, Role.CX_ADMIN, ALL),
        ({"cognito:groups": ["agent"], "custom:scope": "agent=a-17"}, Role.AGENT, None),
        # The highest of several groups; other groups (a federated provider's) ignored.
        ({"cognito:groups": ["eu-north-1_x_Google", "agent", "manager"]}, Role.MANAGER, None),
        ({"custom:scope": "all"}, Role.MANAGER, ALL),
        ({"custom:scope": "touchpoint=app"}, Role.MANAGER, Scope(ScopeKind.TOUCHPOINT, "app")),
    ],
)
def test_roles_and_scopes(changes: dict[str, Any], role: Role, scope: Scope | None) -> None:
    principal = _verify(_token(_claims(**changes)))
    assert principal.role is role
    if scope is not None:
        assert principal.scope == scope


def test_without_jti_the_token_id_is_subject_and_issue_time() -> None:
    principal = _verify(_token(_claims(jti=None)))
    assert principal.token_id == f"{principal.user_id}@{_claims()['iat']}"


def test_the_leeway_allows_a_little_clock_skew() -> None:
    expires = datetime.fromtimestamp(_claims()["exp"], tz=UTC)
    assert _verify(_token(), now=expires + timedelta(seconds=20)).role is Role.MANAGER


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _token(signer="attacker"), "bad signature"),
        (lambda: _token(kid="key-2"), "unknown key id"),
        (lambda: _token(_claims(iss=POOL.issuer.replace("AbCdEf123", "Other1"))), "issuer"),
        (lambda: _token(_claims(aud="another-client")), "audience"),
        (lambda: _token(_claims(token_use="access")), "not an ID token"),
        (lambda: _token(_claims(token_use=None)), "no token_use claim"),
        (lambda: _token(_claims(sub=None)), "no sub claim"),
        (lambda: _token(_claims(exp=int(NOW.timestamp()) - 31)), "expired"),
        (lambda: _token(_claims(iat=int(NOW.timestamp()) + 3600)), "not valid yet"),
        (lambda: _token(_claims(nbf=int(NOW.timestamp()) + 600)), "not valid yet"),
        (lambda: _token(_claims(exp="tomorrow")), "malformed"),
        (lambda: _token(_claims(**{"cognito:groups": None})), "none of the groups"),
        (lambda: _token(_claims(**{"cognito:groups": ["readers"]})), "none of the groups"),
        (lambda: _token(_claims(**{"custom:scope": "region=north"})), "a scope is"),
        (lambda: _token(_claims(**{"custom:scope": "business_area="})), "1 to 128"),
        (lambda: _token(_claims(**{"custom:scope": None})), "needs a scope"),
        (
            lambda: _token(_claims(**{"cognito:groups": ["agent"], "custom:scope": "all"})),
            "agent's scope",
        ),
        (
            lambda: _token(
                _claims(**{"cognito:groups": ["agent"], "custom:scope": "touchpoint=app"})
            ),
            "agent's scope",
        ),
        (lambda: "not.a.jwt", "not a JWT"),
        (lambda: "", "not a JWT"),
    ],
)
def test_refused(token: Any, reason: str) -> None:
    with pytest.raises(TokenRefused, match=reason):
        _verify(token())


def test_alg_none_is_refused() -> None:
    # Given a token that claims no signature at all
    token = _unsigned({"alg": "none", "kid": KID}, _claims()) + "."
    # Then it is refused before any key is looked at
    with pytest.raises(TokenRefused, match="not RS256"):
        _verify(token)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    # Given the classic key confusion: HMAC-SHA256 with the pool's public key (PEM) as secret
    public_pem = (
        _private_key("pool")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for header in ({"alg": "HS256", "kid": KID}, {"alg": "RS256", "kid": KID}):
        signing_input = _unsigned(header, _claims())
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        # Then it is refused whichever alg the header names
        with pytest.raises(TokenRefused):
            _verify(f"{signing_input}.{_b64(signature)}")


def test_a_key_that_is_not_rsa_is_refused() -> None:
    keys = {KID: {"kty": "oct", "kid": KID, "k": _b64(b"secret")}}
    with pytest.raises(TokenRefused, match="not an RS256 key"):
        verify_id_token(_token(), pool=POOL, keys=keys.get, now=NOW)


def test_now_must_know_its_time_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        _verify(_token(), now=NOW.replace(tzinfo=None))


# ------------------------------------------------------------------ access rules (one parser)
@pytest.mark.parametrize(
    "text",
    ["", "All", "everything", "business_area", "=webshop", "agent= a1", "agent=a1 ",
     "touchpoint=a\tb", "business_area=" + "x" * 129],
)  # fmt: skip
def test_malformed_scopes(text: str) -> None:
    with pytest.raises(AccessRefused):
        parse_scope(text)


def test_scopes_read_back_as_written() -> None:
    for text in ["all", "business_area=webshop", "touchpoint=app", "agent=a-17", "agent=x=y"]:
        assert str(parse_scope(text)) == text


def test_access_rules() -> None:
    assert access(Role.CX_ADMIN, None) is ALL
    assert access(Role.MANAGER, "agent=a-1") == Scope(ScopeKind.AGENT, "a-1")
    with pytest.raises(AccessRefused):
        access(Role.AGENT, "business_area=webshop")
    with pytest.raises(AccessRefused):
        role_from_groups([])


# ------------------------------------------------------------------ the key set
class CountingSource:
    def __init__(self, *key_sets: list[dict[str, Any]]) -> None:
        self.key_sets = list(key_sets)
        self.fetches = 0

    def fetch(self) -> list[dict[str, Any]]:
        self.fetches += 1
        return self.key_sets[min(self.fetches, len(self.key_sets)) - 1]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_fetched_once_and_again_for_a_new_kid_at_most_once_a_minute() -> None:
    # Given a pool that rotates to a second key after the first fetch
    source = CountingSource([_jwk()], [_jwk(), _jwk("rotated", "key-2")])
    clock = FakeMonotonic()
    keys = KeySet(source, monotonic=clock)
    # When tokens arrive: the known kid is fetched once and then cached
    assert _verify_with(keys, _token()).role is Role.MANAGER
    assert _verify_with(keys, _token()).role is Role.MANAGER
    assert source.fetches == 1
    # A new kid within the minute: no fetch, refused
    clock.now += 30
    with pytest.raises(TokenRefused, match="unknown key id"):
        _verify_with(keys, _token(signer="rotated", kid="key-2"))
    assert source.fetches == 1
    # After the minute: fetched again, and the rotated key signs in
    clock.now += 31
    assert _verify_with(keys, _token(signer="rotated", kid="key-2")).role is Role.MANAGER
    assert source.fetches == 2
    # Made-up kids cost at most one fetch a minute
    for _ in range(5):
        with pytest.raises(TokenRefused):
            _verify_with(keys, _token(kid="made-up"))
    assert source.fetches == 2


def _verify_with(keys: KeySet, token: str) -> Any:
    return verify_id_token(token, pool=POOL, keys=keys.get, now=NOW)


def test_jwks_documents_and_urls() -> None:
    assert parse_jwks(json.dumps({"keys": [_jwk()]}))[0]["kid"] == KID
    for body in ["[]", "{}", '{"keys": "x"}', "not json", "{" + " " * 70000 + "}"]:
        with pytest.raises(KeysUnavailable):
            parse_jwks(body)
    assert jwks_url(POOL.issuer) == POOL.jwks_url
    assert (
        jwks_url(POOL.issuer, "http://127.0.0.1:5000/")
        == "http://127.0.0.1:5000/eu-north-1_AbCdEf123/.well-known/jwks.json"
    )
