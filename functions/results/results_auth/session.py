"""The signed-in session's cookie and the CSRF token of the results view's forms. Pure.

The session cookie holds the Cognito ID token itself: every request is verified by signature
(identity.verify_id_token) and needs no session table, and the cookie cannot outlive the token
(Max-Age is the token's remaining life, at most an hour). HttpOnly keeps it from scripts;
SameSite=Lax keeps it off cross-site POSTs (and the CSRF token below refuses them anyway);
Path limits it to the results view, never sent to the survey pages on the same API.

CSRF: a form carries HMAC-SHA256(key, token id of the sign-in), so a token is only good for the
session it was issued to, and a POST is also refused when its Origin (or, without one, Referer)
is another site. The pages must send `Referrer-Policy: same-origin` (not the survey pages'
no-referrer): under no-referrer browsers send `Origin: null` on same-origin POSTs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from msgspec import Struct

COOKIE_NAME = "results_session"
DEFAULT_PATH = "/results"
MAX_AGE = timedelta(hours=1)  # the pool client's ID token validity
MIN_KEY_BYTES = 32
_CSRF_CONTEXT = b"results-view csrf v1\x00"
_TOKEN_CHARACTERS = re.compile(r"^[A-Za-z0-9._-]+$")  # a JWT's base64url parts and dots


class CsrfRefused(Exception):
    """A form POST that must not be acted on; str() is the reason, safe to log."""


class CookieSettings(Struct, frozen=True):
    path: str = DEFAULT_PATH  # the path the browser sees: "/prod/results" behind a stage
    secure: bool = True  # only the local stack's plain-HTTP server turns this off

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or not _safe_attribute(self.path):
            raise ValueError("the cookie path is an absolute path without ; or spaces")


def _safe_attribute(value: str) -> bool:
    return value.isprintable() and not any(c in value for c in ";, ")


def session_cookie(
    id_token: str, expires_at: datetime, now: datetime, settings: CookieSettings
) -> str:
    """The Set-Cookie header value that starts the session."""
    if not _TOKEN_CHARACTERS.match(id_token):
        raise ValueError("not a JWT")
    remaining = min(expires_at - now, MAX_AGE)
    return _cookie(id_token, max(int(remaining.total_seconds()), 0), settings)


def cleared_cookie(settings: CookieSettings) -> str:
    """The Set-Cookie header value that ends the session (sign-out)."""
    return _cookie("", 0, settings)


def pending_cookie(name: str, value: str, max_age: int, settings: CookieSettings) -> str:
    """A short-lived cookie of the sign-in (the managed login's state and PKCE verifier) with
    the session cookie's attributes; max_age 0 clears it."""
    return _cookie(value, max_age, settings, name)


def _cookie(value: str, max_age: int, settings: CookieSettings, name: str = COOKIE_NAME) -> str:
    attributes = [
        f"{name}={value}",
        f"Max-Age={max_age}",
        f"Path={settings.path}",
        "HttpOnly",
        "SameSite=Lax",
    ]
    if settings.secure:
        attributes.insert(3, "Secure")
    return "; ".join(attributes)


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """A cookie's value from a request's Cookie header (None: not there, or unreadable)."""
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:  # http.cookies.CookieError and friends: a header we cannot read
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None


def session_token(cookie_header: str | None) -> str | None:
    """The ID token from a request's Cookie header, if it has the session cookie."""
    value = cookie_value(cookie_header, COOKIE_NAME)
    if value is None or not _TOKEN_CHARACTERS.match(value):
        return None
    return value


def csrf_token(key: bytes, token_id: str) -> str:
    """The hidden form field's value for the session with this token id (Principal.token_id)."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the CSRF key has at least {MIN_KEY_BYTES} bytes")
    digest = hmac.new(key, _CSRF_CONTEXT + token_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_form_post(
    *,
    key: bytes,
    token_id: str,
    submitted: str | None,
    headers: Mapping[str, str],
    origin: str,
) -> None:
    """Raise CsrfRefused unless the POST comes from `origin` (scheme://host[:port] of the
    results view) with the CSRF token of this session. Header names are matched in any case."""
    lowered = {name.lower(): value for name, value in headers.items()}
    expected_origin = _origin_of(origin)
    if expected_origin is None:
        raise ValueError("origin is scheme://host[:port]")
    sent_origin = lowered.get("origin")
    if sent_origin is not None:
        if _origin_of(sent_origin) != expected_origin:
            raise CsrfRefused("cross-origin POST (Origin)")
    elif lowered.get("referer") is not None:
        if _origin_of(lowered["referer"]) != expected_origin:
            raise CsrfRefused("cross-origin POST (Referer)")
    else:
        raise CsrfRefused("POST without Origin or Referer")
    if not submitted or not hmac.compare_digest(
        submitted.encode(), csrf_token(key, token_id).encode()
    ):
        raise CsrfRefused("missing or wrong CSRF token")


def _origin_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) in lower case, None for "null" or anything not http(s)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc or "@" in parts.netloc:
        return None
    netloc = parts.netloc.lower()
    default_port = ":443" if parts.scheme == "https" else ":80"
    return parts.scheme, netloc.removesuffix(default_port)
