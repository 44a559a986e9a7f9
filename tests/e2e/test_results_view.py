"""The results view in a real browser on the local stack (Debian's headless Chromium): a demo
user signs in on the local sign-in page (Cognito's managed login in the cloud), sees the
overview at a phone's and a desktop's width with nothing scrolling sideways and no critical or
serious axe-core violation, edits the URL to another business area and gets nothing, and signs
out; the view then asks for a sign-in again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from survey_core.messages.i18n import text

from infra.local.process import running_stack
from infra.local.results_demo import DEMO_PASSWORD, DEMO_USERS
from tools.surfaces import CHROMIUM, axe_source

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent"),
]

START = "2026-11-16T09:00:00+02:00"
ADMIN, MANAGER = DEMO_USERS[0], DEMO_USERS[1]
AXE_RUN = "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(time_scale=3600, start_time=START, log_name="results-view.log") as info:
        yield info


def _serious(page: Any) -> list[str]:
    import json

    found = json.loads(page.evaluate(AXE_RUN))["violations"]
    return [v["id"] for v in found if v["impact"] in ("critical", "serious")]


@pytest.mark.parametrize("width", [390, 1280])
def test_sign_in_overview_and_sign_out(stack: dict[str, Any], browser: Browser, width: int) -> None:
    # axe-core in every document (the pages' CSP lets no script in: switched off for it)
    context = browser.new_context(
        viewport={"width": width, "height": 800}, bypass_csp=True, locale="fi-FI"
    )
    context.add_init_script(script=axe_source())
    context.set_default_timeout(10_000)
    page = context.new_page()
    results = stack["results_url"]

    # When a manager opens the view: the sign-in page, in Finnish
    page.goto(results)
    expect(page.get_by_role("heading", level=1)).to_have_text(text("fi", "results_sign_in_title"))
    assert _serious(page) == []
    # and signs in with a wrong password first
    page.get_by_label(text("fi", "results_email")).fill(MANAGER.email)
    page.get_by_label(text("fi", "results_password")).fill("wrong-password-123")
    page.get_by_role("button", name=text("fi", "results_sign_in_submit")).click()
    expect(page.get_by_role("alert")).to_have_text(text("fi", "results_sign_in_failed"))
    # then the right one
    page.get_by_label(text("fi", "results_email")).fill(MANAGER.email)
    page.get_by_label(text("fi", "results_password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=text("fi", "results_sign_in_submit")).click()

    # Then the overview of their business area, fitting the screen, with nothing serious
    expect(page.get_by_role("heading", level=1)).to_have_text(text("fi", "results_title"))
    assert "Verkkokauppa" in page.content()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert _serious(page) == []
    # and a filter by period works (a GET)
    page.get_by_label(text("fi", "report_period")).select_option("4-weeks")
    page.get_by_role("button", name=text("fi", "results_show")).click()
    assert "period=4-weeks" in page.url

    # and the comments page, from the bar, fits and passes axe-core too
    page.get_by_role("link", name=text("fi", "results_nav_comments")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text("fi", "results_nav_comments"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert _serious(page) == []

    # When they edit the URL to another business area: nothing of it
    response = page.goto(f"{results}?scope=businessArea%3Dstore")
    assert response is not None and response.status == 403
    assert "Myymälät" not in page.content()

    # When they sign out: the signed-out page, and the view asks for a sign-in again
    page.goto(results)
    page.get_by_role("button", name=text("fi", "results_sign_out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("fi", "results_signed_out_title")
    )
    page.goto(results)
    expect(page.get_by_role("heading", level=1)).to_have_text(text("fi", "results_sign_in_title"))
    context.close()
