"""Playwright for the browser tests: Debian's Chromium, a login helper, and the one place that sets
their timeouts.

A shared 2-core CI machine may be busy: a page may take seconds to answer. Every Playwright wait in
these tests — `expect(...)` assertions, actions, navigations, `wait_for_function` — is bounded by
BROWSER_TIMEOUT_MS (CONCORD_BROWSER_TIMEOUT_MS overrides it), generous enough for a loaded machine;
a quiet one never waits for it. Contexts come from pytest-playwright's `new_context` (overridden here),
so every page of every context, the `page` fixture's included, gets the same default."""

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import CHROMIUM
from tests.factories import PASSWORD

BROWSER_TIMEOUT_MS = int(os.environ.get("CONCORD_BROWSER_TIMEOUT_MS", "30000"))


@pytest.fixture(autouse=True, scope="session")
def _expect_timeout():
    """`expect(...)` has its own default (5 s), which the page's default timeout does not change."""
    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    yield
    expect.set_options(timeout=None)


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's context factory (it closes the contexts after the test), with the timeouts."""

    def _new_context(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
        return context

    return _new_context


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture
def login(live_server):
    """login(page, user) logs `user` in through the real login form."""

    def _login(page, user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)  # logged in: the form sent us on
        page.wait_for_load_state()

    return _login
