"""Getting an ID token from the user pool: the managed login's authorization code exchanged
at its token endpoint (with the PKCE verifier), and, on the local stack only, a password
sign-in (USER_PASSWORD_AUTH: moto serves no managed login pages).

PKCE (RFC 7636, S256) and the `state` value ride in one short-lived cookie between the
redirect to the managed login and the callback, so the code is only good for the browser that
asked for it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.request
from typing import Any
from urllib.parse import urlencode

EXCHANGE_TIMEOUT = 5.0  # seconds
MAX_TOKEN_RESPONSE = 64 * 1024


class SignInFailed(Exception):
    """No token: a wrong password, an unknown user, or a code the pool refused. str() is safe
    to log (it never holds the user's name, password or code)."""


def new_pkce() -> tuple[str, str, str]:
    """A fresh (state, code verifier, code challenge)."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return state, verifier, challenge


def authorize_url(
    sign_in_url: str, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{sign_in_url}/oauth2/authorize?{urlencode(query)}"


def logout_url(sign_in_url: str, client_id: str, logout_uri: str) -> str:
    return f"{sign_in_url}/logout?{urlencode({'client_id': client_id, 'logout_uri': logout_uri})}"


def exchange_code(
    sign_in_url: str, client_id: str, code: str, redirect_uri: str, verifier: str
) -> str:
    """The ID token for an authorization code (POST <domain>/oauth2/token)."""
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
    ).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - the pool's own https domain
        f"{sign_in_url}/oauth2/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=EXCHANGE_TIMEOUT) as response:  # noqa: S310
            answer: Any = json.loads(response.read(MAX_TOKEN_RESPONSE))
    except Exception as error:  # HTTP 400 (a used or wrong code), a timeout, bad JSON
        raise SignInFailed(f"the code exchange failed ({type(error).__name__})") from None
    token = answer.get("id_token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise SignInFailed("the token endpoint returned no ID token")
    return token


def password_sign_in(cognito: Any, client_id: str, email: str, password: str) -> str:
    """Local stack only: the ID token for an email and password."""
    try:
        answer = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except cognito.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SignInFailed(f"the pool refused the sign-in ({code})") from None
    token = answer.get("AuthenticationResult", {}).get("IdToken")
    if not isinstance(token, str):  # a challenge (a new password, MFA): not served locally
        raise SignInFailed(f"the pool asked for {answer.get('ChallengeName', 'more')}")
    return token
