"""The one way tests, e2e and benchmarks start a browser: the system's headless Chromium.

Playwright cannot download its own browser here, so every launch uses the system's Chromium
with the same flags (no sandbox in containers, nothing that phones home or updates).
Importable as ``chromium`` like :mod:`polling`.
"""

from __future__ import annotations

import os
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
