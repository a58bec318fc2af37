"""Twenty tabs of the React host in a browser without SharedWorker (Android Chrome, older Safari).

The snippets' ``useJobEvents`` loads the plugin's own ``job-events.js`` (through ``vite
preview``'s proxy of ``/static``), whose fallback is one leader tab chosen with Web Locks that
owns the stream and relays it over a BroadcastChannel. So even without SharedWorker the tabs
hold one stream between them, every tab loads (a stream per tab would leave the seventh tab
waiting for a connection), every button stays live, and the next tab takes over the stream
when the leader closes. The host runs no worker: the test moves the scans itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from library_host.database import get_database
from shisho_jobs import JobService

from .conftest import wait_until
from .react_host import ReactHost, react_button, react_host_without_worker
from .react_tabs import (
    LIVE_MS,
    expect_a_new_scan_in_first_and_last,
    finish_job,
    open_react_tabs,
    scan_from_the_first_tab,
)

STREAM_DEADLINE = 20.0  # seconds for the streams the browser holds to settle to one
NO_SHARED_WORKER = "delete window.SharedWorker"
EVENTS_PATH = "/api/jobs/events"


@pytest.fixture(scope="module")
def react(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReactHost]:
    with react_host_without_worker(tmp_path_factory.mktemp("react-tabs-leader")) as react:
        yield react


class StreamRequests:
    """Which page of a browser context requested each event stream, in order."""

    def __init__(self, context: BrowserContext) -> None:
        self._pages: list[Page] = []
        context.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        if request.url.split("?")[0].endswith(EVENTS_PATH):
            self._pages.append(request.frame.page)

    def owners(self, pump: Page, since: int = 0) -> list[Page]:
        """The distinct pages that requested a stream (from request ``since`` on)."""
        pump.evaluate("0")  # lets Playwright deliver the request events it holds
        return list(dict.fromkeys(self._pages[since:]))

    def count(self, pump: Page) -> int:
        """How many stream requests were seen so far (reconnects and reopens included)."""
        pump.evaluate("0")
        return len(self._pages)

    def only_owner(self, pump: Page, since: int = 0) -> Page:
        """Wait for a stream request (from ``since`` on); there must be one page making them."""
        owners: list[Page] = wait_until(
            lambda: self.owners(pump, since),
            timeout=STREAM_DEADLINE,
            what="a tab to open the shared event stream",
        )
        assert len(owners) == 1, f"{len(owners)} tabs opened event streams"
        return owners[0]


@pytest.mark.timeout(300)  # twenty tabs and a production build, on a shared 2-core machine
def test_twenty_react_tabs_share_one_stream_through_a_leader_tab(
    context: BrowserContext, react: ReactHost
) -> None:
    service = JobService(get_database(react.api.settings.database_url))
    context.add_init_script(NO_SHARED_WORKER)
    streams = StreamRequests(context)
    tabs = open_react_tabs(context, react)
    assert tabs[0].evaluate("typeof SharedWorker") == "undefined"
    # One tab leads: every stream request of the twenty tabs came from it.
    leader = streams.only_owner(tabs[-1])

    # A scan started in tab 1 shows in tab 20 without a reload.
    job_id = scan_from_the_first_tab(tabs)

    # The leader closes mid-scan: another tab takes the stream over, and the others stay live.
    tabs.remove(leader)
    before_close = streams.count(tabs[0])
    leader.close()
    assert streams.only_owner(tabs[0], since=before_close) in tabs
    finish_job(service, service.retrieve_job(job_id))
    for tab in (tabs[0], tabs[-1]):
        expect(react_button(tab)).to_have_attribute("data-state", "completed", timeout=LIVE_MS)
    expect_a_new_scan_in_first_and_last(service, tabs)
    assert len(streams.owners(tabs[0], since=before_close)) == 1
