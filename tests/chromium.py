"""The one way tests, e2e and benchmarks start a browser: the system's headless Chromium.

Playwright cannot download its own browser here, so every launch uses the system's Chromium
with the same flags (no sandbox in containers, nothing that phones home or updates).
Importable as ``chromium`` like :mod:`polling`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM: Final = os.environ.get("SHISHO_CHROMIUM", "/usr/bin/chromium")
"""The Chromium executable (``SHISHO_CHROMIUM``, as in the Makefile)."""

CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)


def launch_chromium(playwright: Playwright) -> Browser:
    """A headless system Chromium, launched through ``playwright``; the caller closes it."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )


@contextmanager
def running_chromium() -> Iterator[Browser]:
    """Playwright and a headless system Chromium for the ``with`` block, both closed after it.

    Hold it for one test module at most, never a whole session: Playwright's sync API keeps an
    event loop running in the main thread while it is open, and a later test that calls
    ``asyncio.run()`` fails with "cannot be called from a running event loop".
    """
    # Imported here, not above: importing this module must not need Playwright
    # (chromium_or_skip skips the tests of a machine without it).
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def chromium_or_skip() -> AbstractContextManager[Browser]:
    """:func:`running_chromium`; the calling test is skipped where Playwright or Chromium is
    missing (the suites outside e2e/ also run on machines without a browser)."""
    import pytest  # noqa: PLC0415 (benchmarks import this module without pytest's help)

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return running_chromium()
