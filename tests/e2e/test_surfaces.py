"""Every page and email as people see them: headless Chromium (Debian's) at 320, 390 and
1280 px, with axe-core (tools/surfaces.py says what is checked; `make preview` keeps the
screenshots).

Each width is one test: it looks at every surface and names every problem it found."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser
from survey_core.catalogue import LANGUAGES, load_catalogue

from tools.surfaces import CHROMIUM, WIDTHS, Surface, inspect, inspector, surfaces

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent"),
]


@pytest.fixture(scope="module")
def every_surface() -> list[Surface]:
    return surfaces()


def test_every_survey_page_and_email_is_there_in_every_language(
    every_surface: list[Surface],
) -> None:
    # The list cannot quietly shrink: each survey's page in its four states and its emails of
    # every kind for each metric, the message pages, and the report, in fi, sv and en.
    names = {surface.name for surface in every_surface}
    catalogue = load_catalogue()
    for language in LANGUAGES:
        for survey in catalogue.surveys:
            for state in ("survey", "survey-error", "survey-one-tap", "survey-answered"):
                assert f"page/{survey.id}/{language}/{state}" in names
            for metric in survey.metrics:
                for kind in ("invitation", "reminder", "last-reminder"):
                    assert f"email/{survey.id}/{language}/{metric}-{kind}" in names
        for page in ("thank-you", "closed", "closed-answered", "unsubscribe", "unsubscribed"):
            assert f"page/{language}/{page}" in names
        for status in (400, 404, 410, 500):
            assert f"page/{language}/error-{status}" in names
        assert f"report/{language}/weekly" in names
        for page in ("overview", "overview-scoped", "overview-comments", "sign-in", "signed_out"):
            assert f"results/{language}/{page}" in names
    assert len(names) == len(every_surface)
    for surface in every_surface:
        assert f'<html lang="{surface.language}"' in surface.html, surface.name


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_scrolls_sideways_scales_keep_their_rows_and_axe_finds_nothing_serious(
    browser: Browser, every_surface: list[Surface], width: int
) -> None:
    page: Any = inspector(browser, width)
    problems = [
        f"{found.surface} at {width} px: {problem}"
        for surface in every_surface
        for found in [inspect(page, surface)]
        for problem in found.problems
    ]
    page.context.close()
    assert problems == []
