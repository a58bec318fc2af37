"""Twenty tabs of the React host (the snippets' ``useJobEvents``) in one browser.

The hook joins the plugin's SharedWorker (through ``vite preview``'s proxy of ``/static``), so
the tabs hold one event stream between them, every tab loads, and every button stays live after
the tab that opened the stream closes. The host runs no worker: the test moves the scans itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from library_host.database import get_database
from shisho_jobs import JobService

from .react_host import ReactHost, react_button, react_host_without_worker
from .react_tabs import (
    expect_a_new_scan_in_first_and_last,
    finish_job,
    open_react_tabs,
    scan_from_the_first_tab,
)


@pytest.fixture(scope="module")
def react(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReactHost]:
    with react_host_without_worker(tmp_path_factory.mktemp("react-tabs")) as react:
        yield react


def test_twenty_react_tabs_load_and_stay_live_after_the_first_closes(
    context: BrowserContext, react: ReactHost
) -> None:
    service = JobService(get_database(react.api.settings.database_url))
    tabs = open_react_tabs(context, react)

    job_id = scan_from_the_first_tab(tabs)

    # The tab that opened the shared stream closes; the others still hear of a new scan.
    tabs.pop(0).close()
    finish_job(service, service.retrieve_job(job_id))
    for tab in (tabs[0], tabs[-1]):
        expect(react_button(tab)).to_have_attribute("data-state", "completed")
    expect_a_new_scan_in_first_and_last(service, tabs)
