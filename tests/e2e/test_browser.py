"""The survey page in a real browser: Debian's headless Chromium, driven by Playwright.

A customer opens the link from the invitation email, picks a score by clicking it, writes a
comment full of markup and sends it. The markup must stay text: nothing runs on the page, on
the thank-you page or when the link is opened again (also with the page's Content-Security-Policy
switched off, so that the escaping itself is what is tested, not only the CSP), and the
Responses table holds exactly what was typed. The page also works with the keyboard alone.
A one-tap link from the email opens the page with its score chosen and the button that sends it
in view on a 320 px wide screen: one more tap records it (the link itself stores nothing).

Playwright never downloads a browser here: it starts /usr/bin/chromium (`apt-get install
chromium`; .ci/run does it). Without that binary the tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect
from survey_core.catalogue import load_catalogue
from survey_core.messages.i18n import text

from infra.local.process import running_stack
from infra.local.scenario import TracerScenario
from tools.surfaces import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium)",
    ),
]

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki
# Every way this text could run if it reached the page as markup: a script element, an event
# handler attribute, a dialog, and a way out of the <textarea> it is shown in on a revisit.
COMMENT = (
    "</textarea><script>window.__pwned=1;document.title='pwned';alert('pwned')</script>"
    '<img src=x onerror="window.__pwned=2;alert(2)"> Hyvä palvelu ✓'
)
TIMEOUT_MS = 10_000


@dataclass
class Watched:
    """A browser page and what it showed that script would have caused."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page
    console: list[str] = field(default_factory=list)  # console errors and warnings

    def pwned(self) -> Any:
        return self.page.evaluate("() => window.__pwned")


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=14400, start_time=START, log_name="browser.log", virtual_time=True
    ) as info:
        yield info


def open_page(browser: Browser, *, bypass_csp: bool = False) -> Watched:
    context = browser.new_context(bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT_MS)
    watched = Watched(context.new_page())

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        # Anything: the pages even declare an empty icon, so no /favicon.ico request fails.
        if message.type in ("error", "warning"):
            watched.console.append(f"{message.text} ({message.location.get('url', '')})")

    watched.page.on("dialog", on_dialog)
    watched.page.on("pageerror", lambda error: watched.errors.append(str(error)))
    watched.page.on("console", on_console)
    return watched


def invited_customer(stack: dict[str, Any], score: int) -> TracerScenario:
    """A new customer whose purchase went through the bus and whose invitation email came."""
    scenario = TracerScenario(stack, score=score)
    scenario.put_purchase()
    scenario.invitation_email()  # sets scenario.link, the /s/{token} link from the email
    return scenario


def stored_comment(scenario: TracerScenario) -> str | None:
    scenario.stored()  # checks the stored score and finds the invitation
    item = scenario.stack.client("dynamodb").get_item(
        TableName=scenario.stack.physical_id("ResponsesTable"),
        Key={"invitation_id": {"S": scenario.result.facts["invitation_id"]}},
        ConsistentRead=True,
    )["Item"]
    return item["comment"]["S"] if "comment" in item else None


def stored_response(scenario: TracerScenario) -> dict[str, Any] | None:
    """The customer's stored response, or None (no answer yet)."""
    dynamodb = scenario.stack.client("dynamodb")
    [key] = dynamodb.query(
        TableName=scenario.stack.physical_id("InvitationsTable"),
        IndexName="by_link_token",
        KeyConditionExpression="link_token = :t",
        ExpressionAttributeValues={":t": {"S": scenario.link.rsplit("/", 1)[1]}},
    )["Items"]
    found: dict[str, Any] | None = dynamodb.get_item(
        TableName=scenario.stack.physical_id("ResponsesTable"),
        Key={"invitation_id": key["invitation_id"]},
        ConsistentRead=True,
    ).get("Item")
    return found


def assert_nothing_ran(watched: Watched, title: str) -> None:
    assert watched.pwned() is None
    assert watched.page.title() == title
    assert watched.dialogs == []
    assert watched.errors == []
    # No script element and no image but the company's logo (an SVG data: URI, from the
    # catalogue) reached the DOM, so nothing was even blocked by the CSP: the console has no
    # "Refused to execute inline script" (nor any other error).
    assert watched.page.locator("script, img:not(.logo)").count() == 0
    for source in watched.page.locator("img.logo").evaluate_all("els => els.map(e => e.src)"):
        assert source.startswith("data:image/svg+xml")
    assert watched.console == []


def test_comment_with_markup_is_stored_and_shown_as_text(
    stack: dict[str, Any], browser: Browser
) -> None:
    # Given a customer (Finnish) with the invitation email's link, opened in the browser
    scenario = invited_customer(stack, score=9)
    language = scenario.detail["customer"]["language"]
    survey_title = text(language, "page_title", company=load_catalogue().company)
    watched = open_page(browser)
    page = watched.page
    response = page.goto(scenario.link)
    assert response is not None and response.ok
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert page.title() == survey_title

    # When they click the score 9, type the comment and send the form
    page.locator("fieldset label").get_by_text("9", exact=True).click()
    expect(page.get_by_label("9", exact=True)).to_be_checked()
    page.get_by_label(text(language, "comment_label")).fill(COMMENT)
    page.get_by_role("button", name=text(language, "submit")).click()

    # Then the thank-you page says so in their language, and nothing in the comment ran
    expect(page.get_by_role("heading", level=1)).to_have_text(text(language, "thanks_title"))
    assert_nothing_ran(watched, text(language, "thanks_title"))
    # and the Responses table holds exactly the text typed
    assert stored_comment(scenario) == COMMENT

    # When they open the link again, with the page's CSP switched off (escaping alone must hold)
    for bypass_csp in (False, True):
        again = open_page(browser, bypass_csp=bypass_csp)
        response = again.page.goto(scenario.link)
        assert response is not None and response.ok
        # Then nothing ran, and the form shows their score and the comment as literal text
        assert_nothing_ran(again, survey_title)
        assert "<script>" not in response.text()
        expect(again.page.get_by_label("9", exact=True)).to_be_checked()
        comment = again.page.get_by_label(text(language, "comment_label"))
        expect(comment).to_have_value(COMMENT)
        again.page.context.close()
    page.context.close()


def test_the_page_works_with_the_keyboard(stack: dict[str, Any], browser: Browser) -> None:
    # Given a customer's survey page
    scenario = invited_customer(stack, score=7)
    language = scenario.detail["customer"]["language"]
    watched = open_page(browser)
    page = watched.page
    page.goto(scenario.link)

    # Then every score is a radio button with its number as its accessible name, after a "no
    # choice" one, in a radio group named by the question
    no_choice = text(language, "no_choice")
    values: list[str] = page.locator("input[name=score]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert values == ["", *(str(score) for score in range(11))]
    for value in values[1:]:
        expect(page.get_by_role("radio", name=value, exact=True)).to_have_count(1)
        expect(page.get_by_label(value, exact=True)).to_have_attribute("value", value)
    expect(page.get_by_role("radio", name=no_choice, exact=True)).to_have_attribute("value", "")
    question = page.locator("fieldset > legend").inner_text().strip()
    assert question
    expect(page.get_by_role("radiogroup", name=question)).to_have_count(1)
    comment = page.get_by_label(text(language, "comment_label"))
    expect(comment).to_have_count(1)

    # When they Tab into the scores: the focus is on "no choice", shown around the whole row
    focus: list[str] = []

    def press(key: str) -> None:
        page.keyboard.press(key)
        focus.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.tagName")
        )

    def checked() -> list[str]:
        return list(
            page.locator("input[name=score]:checked").evaluate_all("e => e.map(i => i.value)")
        )

    press("Tab")
    expect(page.locator(".scale")).to_have_css("outline-style", "solid")
    assert checked() == []
    # and move right to 0 (the radio itself is visually hidden: its label shows the focus)
    press("ArrowRight")
    expect(page.locator("label[for=score-0]")).to_have_css("outline-style", "solid")
    assert checked() == ["0"]
    # Then one press too far left from 0 chooses nothing, not 10 (a radio group wraps round)
    press("ArrowLeft")
    assert checked() == [""]
    expect(page.get_by_label("10", exact=True)).not_to_be_checked()
    # and, from 10, one press too far right chooses nothing either, not 0
    press("ArrowLeft")
    assert checked() == ["10"]
    press("ArrowRight")
    assert checked() == [""]
    # When they move right to 7, Tab to the comment and type it, Tab to the button, press Enter
    for _ in range(8):
        press("ArrowRight")
    expect(page.get_by_label("7", exact=True)).to_be_checked()
    press("Tab")
    page.keyboard.type("Näppäimistöllä ✓")
    press("Tab")
    page.keyboard.press("Enter")

    # Then the focus went "no choice", 0, "no choice", 10, "no choice", 0 ... 7, the comment,
    # the button
    scores_visited = ["none", "0", "none", "10", "none", *map(str, range(8))]
    assert focus == [*(f"score-{n}" for n in scores_visited), "comment", "BUTTON"]
    # and the answer was sent and stored as typed
    expect(page.get_by_role("heading", level=1)).to_have_text(text(language, "thanks_title"))
    assert stored_comment(scenario) == "Näppäimistöllä ✓"
    assert watched.errors == [] and watched.console == []
    page.context.close()


@pytest.mark.parametrize("score", [0, 10])
def test_a_one_tap_link_opens_with_the_score_chosen_and_one_tap_sends_it(
    stack: dict[str, Any], browser: Browser, score: int
) -> None:
    # Given a customer on a small phone (320 px wide) with the invitation email
    scenario = invited_customer(stack, score=score)
    language = scenario.detail["customer"]["language"]
    one_tap = f"{scenario.link}?score={score}"
    assert one_tap in scenario.result.facts["email"]["body"]
    context = browser.new_context(viewport={"width": 320, "height": 568})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    # When they tap the score in the email
    response = page.goto(one_tap)
    assert response is not None and response.ok

    # Then the page shows that score chosen, says it is not sent yet, and the button that sends
    # it is in view without scrolling; nothing is stored yet
    expect(page.get_by_label(str(score), exact=True)).to_be_checked()
    assert page.locator("input:checked").count() == 1
    notice = text(language, "link_choice_notice", score=score)
    expect(page.get_by_role("status")).to_have_text(notice)
    send = page.get_by_role("button", name=text(language, "send_choice"))
    expect(send).to_be_in_viewport()
    assert page.evaluate("() => window.scrollY") == 0
    assert stored_response(scenario) is None

    # When they tap it: one more tap
    send.click()

    # Then the thank-you page, and the score is stored
    expect(page.get_by_role("heading", level=1)).to_have_text(text(language, "thanks_title"))
    assert stored_comment(scenario) is None  # stored() inside checks the score
    context.close()
