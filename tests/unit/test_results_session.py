"""The results view's session cookie and CSRF checks. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.results.results_auth.session import (
    COOKIE_NAME,
    CookieSettings,
    CsrfRefused,
    check_form_post,
    cleared_cookie,
    csrf_token,
    session_cookie,
    session_token,
)

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
KEY = b"k" * 32
ORIGIN = "https://abc123.execute-api.eu-north-1.amazonaws.com"


def _attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    return {p.split("=", 1)[0]: (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def test_the_session_cookie_is_locked_down_and_ends_with_the_token() -> None:
    # Given a token with 50 minutes left
    header = session_cookie(
        TOKEN, NOW + timedelta(minutes=50), NOW, CookieSettings(path="/prod/results")
    )
    attributes = _attributes(header)
    # Then the cookie holds it for those 50 minutes, on the results path, out of scripts' reach
    assert attributes[COOKIE_NAME] == TOKEN
    assert attributes["Max-Age"] == "3000"
    assert attributes["Path"] == "/prod/results"
    assert {"Secure", "HttpOnly"} <= set(attributes)
    assert attributes["SameSite"] == "Lax"
    assert "Domain" not in attributes and "Expires" not in attributes


def test_max_age_is_never_longer_than_an_hour_nor_negative() -> None:
    settings = CookieSettings()
    far = session_cookie(TOKEN, NOW + timedelta(days=2), NOW, settings)
    past = session_cookie(TOKEN, NOW - timedelta(minutes=5), NOW, settings)
    assert _attributes(far)["Max-Age"] == "3600"
    assert _attributes(past)["Max-Age"] == "0"


def test_sign_out_clears_the_cookie_on_the_same_path() -> None:
    attributes = _attributes(cleared_cookie(CookieSettings(path="/results")))
    assert attributes[COOKIE_NAME] == ""
    assert attributes["Max-Age"] == "0"
    assert attributes["Path"] == "/results"


def test_local_plain_http_may_drop_secure_only() -> None:
    settings = CookieSettings(secure=False)
    attributes = _attributes(session_cookie(TOKEN, NOW + timedelta(hours=1), NOW, settings))
    assert "Secure" not in attributes and "HttpOnly" in attributes


def test_no_header_injection() -> None:
    with pytest.raises(ValueError):
        session_cookie("x; Domain=evil.example", NOW, NOW, CookieSettings())
    with pytest.raises(ValueError):
        CookieSettings(path="/results; Domain=evil.example")


def test_the_session_token_is_read_back_from_the_cookie_header() -> None:
    assert session_token(f"lang=fi; {COOKIE_NAME}={TOKEN}") == TOKEN
    assert session_token("lang=fi") is None
    assert session_token(None) is None
    assert session_token(f'{COOKIE_NAME}="a b"') is None


# ------------------------------------------------------------------ CSRF
def _post(**changes: object) -> None:
    arguments: dict[str, object] = {
        "key": KEY,
        "token_id": "jti-1",
        "submitted": csrf_token(KEY, "jti-1"),
        "headers": {"Origin": ORIGIN},
        "origin": ORIGIN,
        **changes,
    }
    check_form_post(**arguments)  # type: ignore[arg-type]


def test_a_form_of_this_session_from_this_site_passes() -> None:
    _post()
    _post(headers={"origin": ORIGIN + ":443"})
    _post(headers={"Referer": ORIGIN + "/prod/results/surveys?x=1"})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"submitted": None}, "CSRF token"),
        ({"submitted": ""}, "CSRF token"),
        ({"submitted": csrf_token(KEY, "jti-2")}, "CSRF token"),  # another session's
        ({"submitted": csrf_token(b"o" * 32, "jti-1")}, "CSRF token"),  # another key's
        ({"headers": {"Origin": "https://evil.example"}}, "Origin"),
        ({"headers": {"Origin": "null"}}, "Origin"),
        ({"headers": {"Origin": ORIGIN.replace("https", "http")}}, "Origin"),
        ({"headers": {"Origin": ORIGIN + ".evil.example"}}, "Origin"),
        ({"headers": {"Referer": "https://evil.example/" + ORIGIN}}, "Referer"),
        ({"headers": {"Referer": f"https://user@{ORIGIN[8:]}/"}}, "Referer"),
        ({"headers": {}}, "without Origin or Referer"),
    ],
)
def test_refused_posts(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(CsrfRefused, match=reason):
        _post(**changes)


def test_the_csrf_token_is_per_session_and_needs_a_real_key() -> None:
    assert csrf_token(KEY, "jti-1") == csrf_token(KEY, "jti-1")
    assert csrf_token(KEY, "jti-1") != csrf_token(KEY, "jti-2")
    with pytest.raises(ValueError):
        csrf_token(b"short", "jti-1")
