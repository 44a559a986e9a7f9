"""Every response of the survey app is an HTML page with the security headers: its own pages,
and what Chalice's router answers by itself (405, 415) or a crash outside the pages' own error
handling. (What API Gateway answers by itself: tests/unit/test_gateway_responses.py.)"""

from typing import Any

import pytest
from chalice.test import Client
from survey_core.web.security_headers import SECURITY_HEADERS

from tests.conftest import Deployment
from tests.integration.helpers import lambda_context, log_records, post_form

pytestmark = pytest.mark.integration

UNKNOWN = "/s/" + "x" * 22


def _is_friendly_page(response: Any, status: int, title: bytes) -> None:
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    body = response.body
    assert body.startswith(b"<!DOCTYPE html>") and title in body
    assert b'"Code"' not in body and b"Traceback" not in body


def test_the_apps_own_error_pages_and_the_routers_refusals_are_friendly_pages(
    deployment: Deployment,
) -> None:
    collect = deployment.load("CollectFunction")
    with Client(collect.app) as client:
        not_found = client.http.get(UNKNOWN)
        # A method the route does not take (API Gateway only forwards GET and POST: defence in
        # depth) and a body that is not a form (a bot posting JSON)
        not_allowed = client.http.put(UNKNOWN, body=b"")
        not_a_form = client.http.post(
            UNKNOWN, headers={"Content-Type": "application/json"}, body=b'{"score": 9}'
        )
    # Then each is a page in the catalogue's default language (Finnish), naming the company
    # and what to do next (open the link in the latest message)
    _is_friendly_page(not_found, 404, "Kyselyä ei löytynyt".encode())
    assert "Example Oy:n viimeisimmästä viestistä".encode() in not_found.body
    assert b'<html lang="fi">' in not_found.body
    _is_friendly_page(not_allowed, 405, b"Tarkista vastauksesi")
    assert not_allowed.headers["Allow"] == "GET, POST"
    _is_friendly_page(not_a_form, 415, b"Tarkista vastauksesi")


@pytest.mark.parametrize(
    ("accept_language", "lang", "title"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.8", "sv", "Enkäten hittades inte"),
        ("de-DE,de;q=0.9,en-GB;q=0.7", "en", "Survey not found"),
        ("de-DE,de;q=0.9", "fi", "Kyselyä ei löytynyt"),  # nothing we have: the default
    ],
)
def test_a_page_that_knows_no_customer_is_in_the_browsers_language(
    deployment: Deployment, accept_language: str, lang: str, title: str
) -> None:
    # Given a link nobody was sent, and a request the router refuses, from a browser that asks
    # for a language by its Accept-Language header
    collect = deployment.load("CollectFunction")
    headers = {"Accept-Language": accept_language}
    with Client(collect.app) as client:
        not_found = client.http.get(UNKNOWN, headers=headers)
        not_allowed = client.http.put(UNKNOWN, headers=headers, body=b"")
    # Then each page is in the first language it asks for that the surveys have, else in the
    # catalogue's default
    _is_friendly_page(not_found, 404, title.encode())
    for page in (not_found, not_allowed):
        assert f'<html lang="{lang}">'.encode() in page.body


def test_a_crash_outside_the_pages_error_handling_is_a_friendly_500(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a survey app whose form parsing crashes (before the page's own error handling)
    collect = deployment.load("CollectFunction")

    def crash(*_: Any) -> None:
        raise RuntimeError("form parser broke")

    monkeypatch.setattr(collect, "request_form", crash)
    with Client(collect.app) as client:
        # When a form is posted
        crashed = post_form(client, UNKNOWN, "score=9")
    # Then the customer sees the friendly page, with the headers, not Chalice's JSON
    _is_friendly_page(crashed, 500, b"Jokin meni vikaan")


def test_a_request_the_router_cannot_route_is_logged_and_answered_with_a_page(
    deployment: Deployment,
) -> None:
    # Given an API Gateway event the router cannot take apart (its path parameter is missing):
    # Chalice's router raises before any view runs
    collect = deployment.load("CollectFunction")
    event = {
        "resource": "/s/{token}",
        "path": "/s/abc",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {},
        "stageVariables": None,
        "requestContext": {"resourcePath": "/s/{token}", "httpMethod": "GET", "requestId": "r-1"},
        "body": None,
        "isBase64Encoded": False,
    }
    with log_records(collect.logger) as records:
        response = collect.app(event, lambda_context())
    # Then the answer is the friendly 500 page with the headers, and the error is logged under
    # the request's id
    assert response["statusCode"] == 500
    assert (
        response["headers"]["Content-Security-Policy"]
        == SECURITY_HEADERS["Content-Security-Policy"]
    )
    assert response["body"].startswith("<!DOCTYPE html>")
    [error] = [r for r in records if r["level"] == "ERROR"]
    assert (error["message"], error["correlation_id"]) == ("request failed", "r-1")
