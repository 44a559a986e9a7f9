"""Shared by the end-to-end tests: the local stacks of a session are forked from one starter
that has imported what a stack needs (infra/local/starter.py), and the tests' boto3 sessions
share one API model loader; the browser tests use Debian's headless Chromium (Playwright never
downloads a browser of its own), one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from infra.local.emulation.clients import share_api_models
from infra.local.process import warm_starts
from tools.surfaces import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session", autouse=True)
def _warm_stack_starts() -> Iterator[None]:
    with warm_starts():
        yield


@pytest.fixture(scope="session", autouse=True)
def _one_api_model_loader() -> None:
    """The tests' own boto3 sessions (a LocalStackClient's, the operator tools') read AWS's API
    models through one loader, as the local stack's do: each new session parsed them again."""
    share_api_models()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
