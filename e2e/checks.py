"""Checks that several e2e modules make: whether a button's icon spins, whether jobs remain."""

from __future__ import annotations

from playwright.sync_api import Locator

from library_host.database import get_database
from shisho_jobs import JobService, ListJobsOptions

from .conftest import Host


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
