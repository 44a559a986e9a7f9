"""The results view's app (functions/results/app.py) on the template's stack in moto: sign-in,
the session cookie, scope enforcement on edited URLs, CSRF on sign-out, the export, and the
managed login's redirect in the cloud configuration.

The pool's keys come over HTTP from a moto server on 127.0.0.1 (moto signs every pool's tokens
with the same key), as the function reads them from the local stack's endpoint."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chalice.test import Client
from openpyxl import load_workbook

from tests.conftest import Deployment
from tests.integration.helpers import post_form
from tests.integration.test_results_sign_in import (  # noqa: F401 - moto_keys is a fixture
    AGENT,
    MANAGER,
    PASSWORD,
    _users,
    moto_keys,
)

pytestmark = pytest.mark.integration

ADMIN = "admin@example.com"
RESULTS = "https://surveys.example.com/results"  # the template's URL for SurveyLinkBaseUrl
ORIGIN = "https://surveys.example.com"


@pytest.fixture
def results(deployment: Deployment, moto_keys: Any) -> Iterator[Any]:  # noqa: F811
    """The results app as the local stack runs it (its own sign-in page), with its users."""
    for email, role, scope in (
        (MANAGER, "manager", "business_area=webshop"),
        (AGENT, "agent", "agent=a-17"),
        (ADMIN, "cx-admin", None),
    ):
        argv = ["add", email, "--role", role, "--password", PASSWORD]
        assert _users(*argv, *(["--scope", scope] if scope else [])) == 0
    module = deployment.load("ResultsFunction", RESULTS_LOCAL_SIGN_IN="true")
    module.KEYS = moto_keys
    yield module


def _sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/results/sign-in", f"email={email}&password={password}")


def _session(response: Any) -> str:
    cookies = response.headers["Set-Cookie"]
    cookies = cookies if isinstance(cookies, list) else [cookies]
    [session] = [c for c in cookies if c.startswith("results_session=")]
    return str(session.split(";", 1)[0])


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _get(client: Any, path: str, cookie: str | None) -> Any:
    headers = {"Accept": BROWSER_ACCEPT, **({"Cookie": cookie} if cookie else {})}
    return client.http.get(path, headers=headers)


def test_without_a_session_every_page_sends_to_sign_in(results: Any) -> None:
    with Client(results.app) as client:
        for path in ("/results", "/results/export.xlsx", "/results?scope=all"):
            response = _get(client, path, None)
            assert response.status_code == 303
            assert response.headers["Location"] == f"{RESULTS}/sign-in"
        page = _get(client, "/results/sign-in", None)
    assert page.status_code == 200
    body = page.body.decode()
    assert '<input id="password" name="password" type="password"' in body
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_a_wrong_password_is_refused_and_the_right_one_starts_a_session(results: Any) -> None:
    with Client(results.app) as client:
        wrong = _sign_in(client, MANAGER, "not-the-password-1")
        right = _sign_in(client, MANAGER)
    assert wrong.status_code == 401 and 'role="alert"' in wrong.body.decode()
    assert "Set-Cookie" not in wrong.headers
    assert right.status_code == 303 and right.headers["Location"] == RESULTS
    cookie = next(c for c in right.headers["Set-Cookie"] if c.startswith("results_session="))
    attributes = [part.strip() for part in cookie.split(";")]
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/results"} <= set(attributes)
    max_age = int(next(a for a in attributes if a.startswith("Max-Age=")).split("=")[1])
    assert 0 < max_age <= 3600


def test_a_manager_sees_their_business_area_and_nothing_else(results: Any) -> None:
    with Client(results.app) as client:
        cookie = _session(_sign_in(client, MANAGER))
        page = _get(client, "/results", cookie)
        own = _get(client, "/results?scope=businessArea%3Dwebshop", cookie)
        # editing the URL to another area, a touchpoint or an agent gets nothing
        others = [
            _get(client, f"/results?scope={scope}", cookie)
            for scope in ("businessArea%3Dstore", "touchpoint%3Dservice", "agentId%3Da-17")
        ]
        export = _get(client, "/results/export.xlsx?scope=businessArea%3Dstore", cookie)
        own_comments = _get(client, "/results/comments?group=low&search=toimitus", cookie)
        own_csv = _get(client, "/results/comments.csv?group=low", cookie)
        other_csv = _get(client, "/results/comments.csv?scope=businessArea%3Dstore", cookie)
        other_comments = _get(client, "/results/comments?scope=businessArea%3Dstore", cookie)
    assert page.status_code == 200 and own.status_code == 200
    body = page.body.decode()
    assert "Verkkokauppa" in body  # the scope, by its display name
    assert '<select id="scope"' not in body  # a scoped viewer chooses no scope
    assert [r.status_code for r in others] == [403, 403, 403] and export.status_code == 403
    assert own_comments.status_code == 200 and other_comments.status_code == 403
    assert own_csv.status_code == 200 and other_csv.status_code == 403
    assert own_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert own_csv.body.startswith("\ufeff".encode())
    assert 'href="https://surveys.example.com/results/comments.csv?group=low' in (
        own_comments.body.decode()
    )
    assert 'aria-current="page"' in own_comments.body.decode()
    for refused in [*others, export, other_comments]:
        assert "Verkkokauppa" not in refused.body.decode()


def test_an_agent_sees_only_their_own_contacts_and_an_admin_any_scope(results: Any) -> None:
    with Client(results.app) as client:
        agent = _session(_sign_in(client, AGENT))
        admin = _session(_sign_in(client, ADMIN))
        assert _get(client, "/results", agent).status_code == 200
        assert _get(client, "/results?scope=agentId%3Da-18", agent).status_code == 403
        assert _get(client, "/results?scope=all", agent).status_code == 200  # = their own
        assert _get(client, "/results?scope=businessArea%3Dstore", admin).status_code == 200
        assert '<select id="scope"' in _get(client, "/results", admin).body.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),  # signature
        lambda token: token.split(".")[0] + ".e30." + token.split(".")[2],  # claims replaced
        lambda token: "not-a-token",
    ],
)
def test_a_forged_session_is_no_session(results: Any, tamper: Any) -> None:
    with Client(results.app) as client:
        cookie = _session(_sign_in(client, ADMIN))
        name, token = cookie.split("=", 1)
        response = _get(client, "/results", f"{name}={tamper(token)}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in")


def test_sign_out_needs_the_sessions_csrf_token_from_the_views_own_origin(results: Any) -> None:
    with Client(results.app) as client:
        cookie = _session(_sign_in(client, MANAGER))
        page = _get(client, "/results", cookie).body.decode()
        [csrf] = re.findall(r'name="csrf" value="([^"]+)"', page)

        def sign_out(body: str, origin: str | None) -> Any:
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
            if origin:
                headers["Origin"] = origin
            return client.http.post("/results/sign-out", headers=headers, body=body)

        cross_site = sign_out(f"csrf={csrf}", "https://evil.example")
        no_token = sign_out("", ORIGIN)
        wrong_token = sign_out("csrf=" + "A" * len(csrf), ORIGIN)
        no_origin = sign_out(f"csrf={csrf}", None)
        signed_out = sign_out(f"csrf={csrf}", ORIGIN)
        after = _get(client, "/results/signed-out", None)
    for refused in (cross_site, no_token, wrong_token, no_origin):
        assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
    assert signed_out.status_code == 303
    assert signed_out.headers["Location"] == f"{RESULTS}/signed-out"
    assert "results_session=; Max-Age=0" in str(signed_out.headers["Set-Cookie"])
    assert after.status_code == 200


def test_the_export_is_the_views_workbook(results: Any) -> None:
    with Client(results.app) as client:
        cookie = _session(_sign_in(client, ADMIN))
        response = _get(client, "/results/export.xlsx?period=4-weeks", cookie)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert re.fullmatch(
        r'attachment; filename="results-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}.xlsx"',
        response.headers["Content-Disposition"],
    )
    book = load_workbook(io.BytesIO(response.body))
    assert book.sheetnames  # the report's sheets, in the catalogue's language


def test_a_filter_that_cannot_be_shown_is_a_page_saying_so(results: Any) -> None:
    with Client(results.app) as client:
        cookie = _session(_sign_in(client, ADMIN))
        for comments_query in ("group=worst", "survey=nope", "search=" + "x" * 101):
            response = _get(client, f"/results/comments?{comments_query}", cookie)
            assert response.status_code == 400, comments_query
        for query in (
            "period=year",
            "period=range&first=2026-13-01&last=2026-01-01",
            "period=range&first=2026-02-01&last=2026-01-01",
            "scope=webshop",
        ):
            assert _get(client, f"/results?{query}", cookie).status_code == 400, query


def test_in_the_cloud_sign_in_goes_to_the_managed_login_with_pkce(
    deployment: Deployment,
    moto_keys: Any,  # noqa: F811
) -> None:
    module = deployment.load("ResultsFunction")  # the template's configuration: no local page
    module.KEYS = moto_keys
    with Client(module.app) as client:
        redirect = _get(client, "/results/sign-in", None)
        password = _sign_in(client, MANAGER)
        no_state = _get(client, "/results/auth/callback?code=abc&state=x", None)
    assert redirect.status_code == 303
    location = urlsplit(redirect.headers["Location"])
    query = parse_qs(location.query)
    assert location.path == "/oauth2/authorize" and location.netloc.endswith(".amazoncognito.com")
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{RESULTS}/auth/callback"]
    [pending] = redirect.headers["Set-Cookie"]
    assert pending.startswith(f"results_sign_in={query['state'][0]}.") and "HttpOnly" in pending
    assert password.status_code == 404  # passwords go to the managed login only
    assert no_state.status_code == 400


def test_the_routers_refusals_and_a_crash_are_pages_with_the_views_headers(
    results: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_: Any) -> None:
        raise RuntimeError("the overview broke")

    with Client(results.app) as client:
        cookie = _session(_sign_in(client, ADMIN))
        not_allowed = client.http.put("/results", body=b"")
        monkeypatch.setattr(results, "overview", crash)
        crashed = _get(client, "/results", cookie)
    for page, status in ((not_allowed, 405), (crashed, 500)):
        assert page.status_code == status
        assert page.body.startswith(b"<!DOCTYPE html>") and b'"Code"' not in page.body
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert page.headers["Cache-Control"] == "no-store"
