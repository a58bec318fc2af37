"""The resync button when jobs run in separate ``shisho-jobs worker`` processes.

The host runs no worker of its own (``SHISHO_INPROCESS_WORKER=0``), so a new scan
stays pending, shown "waiting" (no worker is running), until a test starts a worker:
that state can be looked at without racing the scan.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from .big_library import BIG_LIBRARY_FILES, BIG_LIBRARY_ID, add_big_library
from .checks import has_active_jobs, icon_spins
from .conftest import Host, api_json, button, login, make_host, screenshot, wait_until

LEASE_SECONDS = "2"
"""Short leases so a killed worker's job is rescued within seconds."""
SCAN_DEADLINE = 90.0  # seconds


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(
        tmp_path_factory.mktemp("separate"),
        inprocess_worker=False,
        SHISHO_WORKER_LEASE_SECONDS=LEASE_SECONDS,
        SHISHO_WORKER_POLL_INTERVAL="0.2",
    )
    add_big_library(host)
    host.start()
    yield host
    host.stop()


@pytest.fixture
def drain(host: Host) -> Iterator[None]:
    """After the test, a worker runs until no job is pending or running."""
    yield
    worker = host.start_worker()
    try:
        wait_until(
            lambda: not has_active_jobs(host), timeout=SCAN_DEADLINE, what="the queue drains"
        )
    finally:
        host.stop_worker(worker)


@pytest.mark.usefixtures("drain")
def test_scan_of_library_one_leaves_library_two_idle(context: BrowserContext, host: Host) -> None:
    books, comics = context.new_page(), context.new_page()
    login(books, host, "admin", then="/libraries/1")
    comics.goto(f"{host.url}/libraries/2")
    expect(button(comics, 2)).to_have_attribute("data-state", "idle")

    button(books, 1).locator("button").click()

    # No worker runs yet: the pending scan is shown waiting, without spinning (CONTRACT 5).
    expect(button(books, 1)).to_have_attribute("data-state", "waiting")
    assert not icon_spins(button(books, 1))
    comics.reload()
    expect(button(comics, 2)).to_have_attribute("data-state", "idle")
    expect(button(comics, 2).locator("button")).to_have_attribute("aria-label", "Resync library")
    assert not icon_spins(button(comics, 2))
    screenshot(books, "06-active-spinning")


@pytest.mark.usefixtures("drain")
def test_spinning_button_opens_the_job_page_which_follows_the_job_live(
    page: Page, host: Host
) -> None:
    login(page, host, "admin", then="/libraries/2")
    resync = button(page, 2)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed"))
    resync.locator("button").click()
    expect(resync).to_have_attribute("data-state", "waiting")  # no worker runs yet
    expect(resync.locator("button")).to_have_attribute(
        "aria-label", "Scan waiting - no worker is running"
    )
    job_id = resync.get_attribute("data-job-id")

    resync.locator("button").click()

    page.wait_for_url(f"{host.url}/settings/jobs/{job_id}")
    expect(page.locator('[data-testid="job-status"]')).to_have_text("pending")
    worker = host.start_worker()
    try:
        # No reload: the page follows the job through the event stream.
        expect(page.locator('[data-testid="job-status"]')).to_have_text(
            "completed", timeout=SCAN_DEADLINE * 1000
        )
    finally:
        host.stop_worker(worker)
    expect(page.locator('[data-testid="job-progress-text"]')).to_have_text("100%")
    expect(page.locator('[data-testid="job-log"]')).not_to_have_count(0)
    screenshot(page, "07-job-page-completed")


@pytest.mark.usefixtures("drain")
def test_two_tabs_clicking_at_once_create_one_job(context: BrowserContext, host: Host) -> None:
    first, second = context.new_page(), context.new_page()
    login(first, host, "admin", then="/libraries/2")
    second.goto(f"{host.url}/libraries/2")
    for tab in (first, second):
        expect(button(tab, 2)).to_have_attribute("data-state", re.compile("idle|completed"))
    before = {job["id"] for job in api_json(first, host, "/api/jobs?type=scan&limit=100")["jobs"]}

    # Both clicks are scheduled for the same instant in the two tabs.
    at = first.evaluate("() => Date.now() + 500")
    for tab in (first, second):
        tab.evaluate(
            """at => setTimeout(() => document
                .querySelector('shisho-resync-button[library-id="2"]')
                .shadowRoot.querySelector("button").click(), at - Date.now())""",
            at,
        )

    for tab in (first, second):
        expect(button(tab, 2)).to_have_attribute("data-state", "waiting")  # no worker runs yet
    new_jobs = [
        job
        for job in api_json(first, host, "/api/jobs?type=scan&limit=100")["jobs"]
        if job["id"] not in before
    ]
    assert len(new_jobs) == 1
    for tab in (first, second):
        expect(button(tab, 2)).to_have_attribute("data-job-id", str(new_jobs[0]["id"]))
    screenshot(second, "08-second-tab-joined")


@pytest.mark.usefixtures("drain")
def test_worker_killed_mid_scan_is_rescued_and_the_button_stops_spinning(
    page: Page, host: Host
) -> None:
    login(page, host, "admin", then=f"/libraries/{BIG_LIBRARY_ID}")
    resync = button(page, BIG_LIBRARY_ID)
    expect(resync).to_have_attribute("data-state", "idle")
    doomed = host.start_worker()
    resync.locator("button").click()
    expect(resync).to_have_attribute("data-state", "active")
    job_id = int(resync.get_attribute("data-job-id") or 0)

    def scanning() -> bool:
        job = api_json(page, host, f"/api/jobs/{job_id}")
        return bool(job["status"] == "in_progress" and job["progress"] > 0)

    wait_until(scanning, timeout=SCAN_DEADLINE, what="the first worker gets into the scan")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    killed_at = time.monotonic()
    assert api_json(page, host, f"/api/jobs/{job_id}")["status"] == "in_progress"
    expect(resync).to_have_attribute("data-state", "active")
    screenshot(page, "10-worker-killed-still-active")

    rescuer = host.start_worker()
    try:
        # The rescue is logged as a warning ("stopped answering; re-queued"), so the scan
        # completes with one (CONTRACT section 5: `warning`).
        expect(resync).to_have_attribute("data-state", "warning", timeout=SCAN_DEADLINE * 1000)
    finally:
        host.stop_worker(rescuer)

    job = api_json(page, host, f"/api/jobs/{job_id}")
    assert job["status"] == "completed" and job["attempt"] >= 2
    assert time.monotonic() - killed_at < SCAN_DEADLINE
    screenshot(page, "11-rescued-completed")
    page.reload()
    expect(page.locator('[data-testid="book-count"]')).to_have_text(f"{BIG_LIBRARY_FILES} books")


@pytest.mark.usefixtures("drain")
def test_loading_and_starting_states(page: Page, host: Host) -> None:
    # Both states last as long as a request: hold the request to look at them.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(re.compile(r"/api/jobs\?type=scan"), hold)
    login(page, host, "admin", then=f"/libraries/{BIG_LIBRARY_ID}")
    resync = button(page, BIG_LIBRARY_ID)

    expect(resync).to_have_attribute("data-state", "loading")
    screenshot(page, "00-loading")
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/api/jobs\?type=scan"), hold)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed|warning"))
    held.clear()

    def hold_create(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/api/jobs$"), hold_create)
    resync.locator("button").click()

    expect(resync).to_have_attribute("data-state", "starting")
    expect(resync.locator("button")).to_have_attribute("aria-label", "Starting scan...")
    screenshot(page, "02b-starting")
    assert icon_spins(resync)
    held[0].continue_()
    # No worker runs here: the created scan waits, pending, and the button says so.
    expect(resync).to_have_attribute("data-state", "waiting")


@pytest.mark.usefixtures("drain")
def test_global_scan_spins_every_button(context: BrowserContext, host: Host) -> None:
    pages = {library_id: context.new_page() for library_id in (1, 2, 3)}
    login(pages[1], host, "admin", then="/libraries/1")
    for library_id, tab in pages.items():
        tab.goto(f"{host.url}/libraries/{library_id}")
        expect(button(tab, library_id)).not_to_have_attribute("data-state", "loading")

    created = pages[1].evaluate(
        """async () => {
            const token = document.cookie.split("; ").find(c => c.startsWith("csrftoken="));
            const response = await fetch("/api/jobs", {
                method: "POST",
                headers: {"Content-Type": "application/json",
                          "X-CSRFToken": decodeURIComponent(token.split("=")[1])},
                body: JSON.stringify({type: "scan", data: {}}),
            });
            return [response.status, await response.json()];
        }"""
    )

    assert created[0] in (200, 201) and "library_id" not in created[1]
    for library_id, tab in pages.items():
        # No worker runs yet: waiting, not spinning (CONTRACT section 5).
        expect(button(tab, library_id)).to_have_attribute("data-state", "waiting")
        expect(button(tab, library_id)).to_have_attribute("data-job-id", str(created[1]["id"]))
        assert not icon_spins(button(tab, library_id))
    screenshot(pages[2], "09-global-scan-spins-comics")
    worker = host.start_worker()
    try:
        for library_id, tab in pages.items():
            # Library 3's folder is missing, so the global scan ends failed; either way
            # no button keeps spinning.
            expect(button(tab, library_id)).to_have_attribute(
                "data-state", re.compile("completed|failed"), timeout=SCAN_DEADLINE * 1000
            )
    finally:
        host.stop_worker(worker)
