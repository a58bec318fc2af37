"""The button in real Chromium against the plugin's test host, served by uvicorn."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "plugin"))

from plugin_test_host import USER_COOKIE, Site, create_schema, make_app, serve
from stand_in_worker import register_stand_in_worker

from chromium import chromium_or_skip
from shisho_jobs import Database
from shisho_resync_plugin import ResyncPlugin


# Module scope, not session: Playwright's sync API keeps an event loop running in
# the main thread while it is open, and later tests that call asyncio.run() would
# fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless system Chromium per test module."""
    with chromium_or_skip() as chromium:
        yield chromium


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[Site, ResyncPlugin]]:
    """The test host on a fresh SQLite database (no worker: tests move jobs themselves), and
    its plugin (to count open streams)."""
    database = Database(sqlite_url)
    create_schema(database)
    # The tests move jobs as a worker would: a pending job is not waiting for one.
    register_stand_in_worker(database)
    app, plugin = make_app(database, keepalive_interval=1.0, sqlite_poll_interval=0.05)
    try:
        with serve(app, plugin) as base_url:
            yield Site(base_url, plugin.runtime.service, database), plugin
    finally:
        database.dispose()


@pytest.fixture
def site(served: tuple[Site, ResyncPlugin]) -> Site:
    """The served test host (most tests need no plugin)."""
    return served[0]


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser context signed in as `writer`."""
    context = browser.new_context(base_url=site.base_url)
    context.add_cookies([{"name": USER_COOKIE, "value": "writer", "url": site.base_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
