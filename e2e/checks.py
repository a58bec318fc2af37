"""Steps and checks that several e2e modules share: the Broken library's button, whether a
button's icon spins, whether jobs remain."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from library_host.database import get_database
from shisho_jobs import JobService, ListJobsOptions

from .conftest import Host, button, login

BROKEN_LIBRARY_ID = 3  # the demo's library whose folder does not exist: its scans fail


def broken_library_button(page: Page, host: Host) -> Locator:
    """Sign in on the Broken library and click its button unless its last scan already failed
    (an earlier test may have scanned it); the button, whose scan fails or has failed."""
    login(page, host, "admin", then=f"/libraries/{BROKEN_LIBRARY_ID}")
    resync = button(page, BROKEN_LIBRARY_ID)
    expect(resync).to_have_attribute("data-state", re.compile("idle|failed"))
    if resync.get_attribute("data-state") == "idle":
        resync.locator("button").click()
    return resync


def icon_spins(resync: Locator) -> bool:
    """Whether the icon inside a ``<shisho-resync-button>``'s shadow root is animated."""
    animation: str = resync.evaluate(
        "el => getComputedStyle(el.shadowRoot.querySelector('.icon')).animationName"
    )
    return animation != "none"


def has_active_jobs(host: Host) -> bool:
    """Whether any job of the host is still pending or running."""
    service = JobService(get_database(host.settings.database_url))
    return bool(service.list_jobs(ListJobsOptions(statuses=["pending", "in_progress"])))
