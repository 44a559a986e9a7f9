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
    with running_stack(
        time_scale=3600, start_time=START, log_name="results-view.log", virtual_time=True
    ) as info:
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

    # and the segments and the follow-up queue, from the bar, keep the period chosen
    for nav, heading in (
        ("results_nav_segments", "report_segments"),
        ("results_nav_follow_up", "results_nav_follow_up"),
    ):
        page.get_by_role("link", name=text("fi", nav)).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(text("fi", heading))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        assert _serious(page) == []
    assert "period=4-weeks" in page.url

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


def _sampled_customer(prefix: str) -> str:
    """A customer id the service-contact survey's sampling (0.5) picks."""
    from survey_core.rules.eligibility import sampled

    return next(
        f"{prefix}-{n}" for n in range(100) if sampled(f"{prefix}-{n}", "service-contact", 0.5)
    )


def test_an_agent_sees_an_answer_on_their_contact_within_seconds(
    stack: dict[str, Any], browser: Browser
) -> None:
    """A customer answers the SMS survey of a contact agent a-17 closed; the agent's own page
    shows the answer's scores and comment within 5 s of the answer, and another agent's
    answer is nowhere on it; the answer's callback task reaches the agent's queue, and an
    admin records its outcome."""
    import json
    import re
    import time
    import uuid

    from infra.local.results_demo import signed_in_page
    from infra.local.scenario import LocalStackClient, http, wait_for
    from tests.conftest import REPO_ROOT

    agent = next(u for u in DEMO_USERS if u.role == "agent")
    client = LocalStackClient(stack)
    example = json.loads((REPO_ROOT / "events" / "service-contact-closed.json").read_text())
    answers = {}
    for agent_id in ("a-17", "a-18"):
        suffix = uuid.uuid4().hex[:8]
        detail = json.loads(json.dumps(example["detail"]))
        phone = f"+35840{int(suffix, 16) % 10**7:07d}"
        detail["contactId"] = f"case-{suffix}"
        detail["customer"].update(
            {
                "id": _sampled_customer(f"cust-{suffix}"),
                "phone": phone,
                "email": f"{suffix}@example.com",
            }
        )
        detail["segment"]["agentId"] = agent_id
        client.put_event("Service Contact Closed", detail, example["source"])
        sms = client.until(  # after the survey's delay: the stack's clock moves to it
            "the survey SMS",
            lambda phone=phone: next(
                (m for m in client.control("outbox")["sms"] if m["to"] == phone), None
            ),
            hours=24,
        )
        link = re.search(r"(https?://\S+/s/[A-Za-z0-9_-]{22})", sms["text"])
        assert link, "no survey link in the SMS"
        answers[agent_id] = (link.group(1), f"Agentti {agent_id} {suffix}")

    # the other agent's customer answers first, then agent a-17's
    other_link, other_comment = answers["a-18"]
    assert (
        http("POST", other_link, {"score": "2", "score_ces": "3", "comment": other_comment})[0]
        == 200
    )
    own_link, own_comment = answers["a-17"]
    # a low score: the survey's rule makes it a callback task too
    status, _ = http("POST", own_link, {"score": "2", "score_ces": "2", "comment": own_comment})
    answered = time.monotonic()
    assert status == 200

    def shown() -> str | None:
        status, page = signed_in_page(stack, agent.email, "/mine")
        return page if status == 200 and own_comment in page else None

    page = wait_for("the answer on the agent's page", shown, 5)
    seen_after = time.monotonic() - answered
    assert seen_after <= 5
    assert other_comment not in page  # another agent's answer: nowhere
    assert "Asiakaspalvelun jälkeen" in page  # the survey's block, by its name
    # and the agent's own page in a browser passes axe-core
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, bypass_csp=True, locale="fi-FI"
    )
    context.add_init_script(script=axe_source())
    view = context.new_page()
    view.goto(stack["results_url"])
    view.get_by_label(text("fi", "results_email")).fill(agent.email)
    view.get_by_label(text("fi", "results_password")).fill(DEMO_PASSWORD)
    view.get_by_role("button", name=text("fi", "results_sign_in_submit")).click()
    view.get_by_role("link", name=text("fi", "results_nav_mine")).click()
    expect(view.get_by_role("heading", level=1)).to_have_text(text("fi", "results_nav_mine"))
    assert own_comment in view.content() and other_comment not in view.content()
    assert view.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert _serious(view) == []

    # The answer's callback task reaches the agent's queue (once the contact centre's hours
    # open: the stack's clock moves on to them): the agent sees it, without the outcome form
    def task_link() -> str | None:
        view.goto(f"{stack['results_url']}/follow-up")
        found = view.locator("a[href*='/results/follow-up/']")
        return found.first.get_attribute("href") if found.count() == 1 else None

    task = client.until("the task in the agent's queue", task_link, hours=72)
    assert _serious(view) == []
    view.goto(task)
    expect(view.get_by_role("heading", level=1)).to_contain_text(text("fi", "results_task"))
    assert own_comment in view.content()
    assert view.get_by_role("button", name=text("fi", "results_save")).count() == 0
    context.close()

    # and an admin records its outcome in the browser (the form's CSRF token, a POST, back to
    # the task's page saying it was saved)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, bypass_csp=True, locale="fi-FI"
    )
    context.add_init_script(script=axe_source())
    admin = context.new_page()
    admin.goto(stack["results_url"])
    admin.get_by_label(text("fi", "results_email")).fill(ADMIN.email)
    admin.get_by_label(text("fi", "results_password")).fill(DEMO_PASSWORD)
    admin.get_by_role("button", name=text("fi", "results_sign_in_submit")).click()
    admin.goto(task)
    admin.get_by_label(text("fi", "results_outcome")).select_option("no_action")
    admin.get_by_label(text("fi", "results_note")).fill("Asiakas kiitti soitosta.")
    admin.get_by_role("button", name=text("fi", "results_save")).click()
    expect(admin.get_by_role("status")).to_have_text(text("fi", "results_outcome_saved"))
    assert "Asiakas kiitti soitosta." in admin.content()
    assert text("fi", "results_outcome_no_action") in admin.content()
    assert _serious(admin) == []
    context.close()
