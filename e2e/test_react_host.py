"""The React snippets in a real React host: the demo app built with Vite, driven in Chromium.

The demo (``frontend_snippets/demo``: Vite's react-ts template, TanStack Query, React Router and
the snippets) is built once per run and served by ``vite preview`` on its own port, passing the
API, the login pages and the static files through to a reference host: one origin for the
browser, the real API and real workers behind it. The host runs no worker of its own, so a new
scan stays ``waiting`` (no worker is running) until a test starts one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from subprocess import Popen

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from library_host.database import get_database
from shisho_jobs import JobService

from .checks import has_active_jobs
from .conftest import api_json, screenshot, wait_until
from .react_host import ReactHost, react_button, react_host_without_worker, react_login

SCAN_DEADLINE = 60.0  # seconds for a worker to finish a small scan on a busy machine
JUST_NOW = re.compile(r"^Last synced (less than a minute ago|1 minute ago)$")
STARTED_JUST_NOW = re.compile(r"^Scan started (less than a minute ago|1 minute ago)$")
WAITING_FOR_A_WORKER = "Scan waiting - no worker is running"
START_ERROR_DISPLAY_MS = 5_000  # the button's default (START_ERROR_DISPLAY_MS in the snippets)


@pytest.fixture(scope="module")
def react(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReactHost]:
    with react_host_without_worker(tmp_path_factory.mktemp("react")) as react:
        yield react


@pytest.fixture
def start_worker(react: ReactHost) -> Iterator[Callable[[], Popen[bytes]]]:
    """Starts a worker on demand; after the test one runs until no job is left pending."""
    host = react.api
    started: list[Popen[bytes]] = []

    def start() -> Popen[bytes]:
        started.append(host.start_worker())
        return started[-1]

    yield start
    if not started:
        start()
    try:
        wait_until(
            lambda: not has_active_jobs(host), timeout=SCAN_DEADLINE, what="the queue drains"
        )
    finally:
        for worker in started:
            host.stop_worker(worker)


def _failed_library_button(page: Page, react: ReactHost) -> Locator:
    """The button on library 3 (Broken: no folder), once its scan has failed (a worker runs)."""
    react_login(page, react, "admin", then="/libraries/3")
    resync = react_button(page)
    expect(resync).to_have_attribute("data-state", re.compile("idle|failed"))
    if resync.get_attribute("data-state") == "idle":
        resync.locator("button").click()
        expect(resync).to_have_attribute("data-state", "failed", timeout=SCAN_DEADLINE * 1000)
    return resync


def _scan_ids(page: Page, react: ReactHost, library_id: int) -> set[int]:
    jobs = api_json(page, react.api, f"/api/jobs?type=scan&library_id_or_global={library_id}")
    return {job["id"] for job in jobs["jobs"]}


def test_the_app_and_the_api_share_one_origin(page: Page, react: ReactHost) -> None:
    react_login(page, react, "admin", then="/libraries/1")

    expect(page.locator("h1")).to_have_text("Books")
    expect(react_button(page)).to_have_attribute("data-state", re.compile("idle|completed|warning"))
    # The CSRF token the snippets send is read from document.cookie: only on the API's origin.
    assert "csrftoken=" in page.evaluate("document.cookie")
    following = page.evaluate(
        """() => document.querySelector('[data-testid="library-switcher"]')
            .closest("label").nextElementSibling.className"""
    )
    assert following == "shisho-resync-button"


def test_idle_active_completed_live_on_two_tabs_with_one_join(
    context: BrowserContext, react: ReactHost, start_worker: Callable[[], Popen[bytes]]
) -> None:
    first, second = context.new_page(), context.new_page()
    react_login(first, react, "admin", then="/libraries/2")
    second.goto(f"{react.url}/libraries/2")
    for tab in (first, second):
        expect(react_button(tab)).to_have_attribute("data-state", "idle")
        expect(react_button(tab).locator("button")).to_have_attribute(
            "aria-label", "Resync library"
        )
    screenshot(first, "react-01-idle")
    before = _scan_ids(first, react, 2)

    # Both tabs click at the same instant: one scan is created, the other click joins it (409).
    at = first.evaluate("() => Date.now() + 500")
    for tab in (first, second):
        tab.evaluate(
            """at => setTimeout(() => document
                .querySelector('[data-testid="top-nav"] .shisho-resync-button button')
                .click(), at - Date.now())""",
            at,
        )

    for tab in (first, second):
        # No worker runs yet: the pending scan is shown waiting (CONTRACT section 5).
        expect(react_button(tab)).to_have_attribute("data-state", "waiting")
        expect(react_button(tab).locator("button")).to_have_attribute(
            "aria-label", WAITING_FOR_A_WORKER
        )
    new_scans = _scan_ids(first, react, 2) - before
    assert len(new_scans) == 1
    (scan_id,) = new_scans
    for tab in (first, second):
        expect(react_button(tab)).to_have_attribute("data-job-id", str(scan_id))
    spinning = first.locator(".shisho-resync-button__icon").evaluate(
        "icon => getComputedStyle(icon).animationName"
    )
    assert spinning == "none"  # waiting is not busy: no spin
    screenshot(first, "react-02-waiting")

    start_worker()

    # No reload, no click: both tabs learn of the end from the live events (or the 2 s poll).
    for tab in (first, second):
        expect(react_button(tab)).to_have_attribute(
            "data-state", "completed", timeout=SCAN_DEADLINE * 1000
        )
        expect(react_button(tab).locator("button")).to_have_attribute("aria-label", JUST_NOW)
    expect(first.locator(f'[data-testid="job-row"][data-job-id="{scan_id}"]')).to_have_attribute(
        "data-status", "completed"
    )
    assert _scan_ids(first, react, 2) - before == {scan_id}
    screenshot(first, "react-03-completed")


def test_an_event_of_a_scan_started_elsewhere_turns_the_button_active(
    page: Page, react: ReactHost, start_worker: Callable[[], Popen[bytes]]
) -> None:
    react_login(page, react, "admin", then="/libraries/1")
    resync = react_button(page)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed|warning"))
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

    created = page.request.post(
        f"{react.url}/api/jobs",
        data={"type": "scan", "data": {}, "library_id": 1},
        headers={"X-CSRFToken": csrf},
    )

    assert created.status == 201
    job_id = created.json()["id"]
    # Well within the 30 s idle poll: only the event stream (through Vite's proxy) can tell it.
    expect(resync).to_have_attribute("data-job-id", str(job_id), timeout=10_000)
    # No worker runs yet: the pending scan is shown waiting (CONTRACT section 5).
    expect(resync).to_have_attribute("data-state", "waiting")
    expect(page.get_by_role("status")).to_have_text(WAITING_FOR_A_WORKER)
    start_worker()
    # Books has a damaged file: its scan completes with a warning (CONTRACT section 5).
    expect(resync).to_have_attribute("data-state", "warning", timeout=SCAN_DEADLINE * 1000)


def test_failed_library_shows_the_badge_and_opens_the_logs(
    page: Page, react: ReactHost, start_worker: Callable[[], Popen[bytes]]
) -> None:
    start_worker()
    resync = _failed_library_button(page, react)

    expect(resync).to_have_attribute("data-state", "failed", timeout=SCAN_DEADLINE * 1000)
    expect(resync.locator("button")).to_have_attribute("aria-label", "Last scan failed - view logs")
    badge = resync.get_by_test_id("resync-warning-badge")
    expect(badge).to_be_visible()
    # Without Tailwind the defaults still hold: a 36 px button, a 16 px icon, the 12 px badge
    # over the button's top-right corner (not beside the icon at 24 px).
    box = resync.locator("button").bounding_box()
    icon = resync.locator(".shisho-resync-button__icon").bounding_box()
    badge_box = badge.bounding_box()
    assert box is not None and icon is not None and badge_box is not None
    assert round(box["height"]) == 36 and round(box["width"]) == 36
    assert round(icon["width"]) == 16 and round(badge_box["width"]) == 12
    assert badge_box["x"] + badge_box["width"] <= box["x"] + box["width"]
    assert badge_box["y"] >= box["y"] and badge_box["y"] < icon["y"]
    screenshot(page, "react-04-failed-badge")
    job_id = resync.get_attribute("data-job-id")

    resync.locator("button").click()

    page.wait_for_url(f"{react.url}/settings/jobs/{job_id}")
    expect(page.get_by_test_id("job-status")).to_have_text("failed")
    expect(page.get_by_test_id("job-log").filter(has_text="does not exist")).not_to_have_count(0)
    screenshot(page, "react-05-failed-job-page")


def test_moving_to_another_library_starts_afresh_without_a_loading_announcement(
    page: Page, react: ReactHost, start_worker: Callable[[], Popen[bytes]]
) -> None:
    start_worker()
    resync = _failed_library_button(page, react)
    page.evaluate(
        """() => {
            window.announced = [];
            new MutationObserver(() => {
                const region = document.querySelector('.shisho-resync-button [role="status"]');
                if (region && region.textContent) window.announced.push(region.textContent);
            }).observe(document.body, { subtree: true, childList: true, characterData: true });
        }"""
    )

    page.get_by_test_id("library-switcher").select_option("2")

    page.wait_for_url(f"{react.url}/libraries/2")
    expect(resync).not_to_have_attribute("data-state", re.compile("loading|failed"))
    expect(resync.get_by_test_id("resync-warning-badge")).to_have_count(0)
    assert page.evaluate("window.announced") == []


def test_a_refused_click_says_why_on_the_button_then_returns(page: Page, react: ReactHost) -> None:
    # The demo shows the button to every signed-in user and lets the server decide.
    react_login(page, react, "viewer", then="/libraries/1")
    resync = react_button(page)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed|warning"))
    label = resync.locator("button").get_attribute("aria-label")

    resync.locator("button").click()

    reason = resync.get_by_test_id("resync-error")
    expect(reason).to_be_visible()
    expect(reason).to_have_text("Could not start the scan: You need the jobs:write permission.")
    expect(page.get_by_role("status")).to_have_text(
        "Could not start the scan: You need the jobs:write permission."
    )
    screenshot(page, "react-06-refused-click")
    expect(reason).to_have_count(0, timeout=START_ERROR_DISPLAY_MS + 10_000)
    expect(resync.locator("button")).to_have_attribute("aria-label", label or "")


def test_a_click_after_the_session_ended_says_so_and_offers_to_sign_in(
    page: Page, react: ReactHost
) -> None:
    react_login(page, react, "admin", then="/libraries/2")
    resync = react_button(page)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed"))
    # Wait until the shared event stream is connected (a scan's event reaches the button): its
    # response, arriving after the cookies are cleared, would set the session cookie again.
    service = JobService(get_database(react.api.settings.database_url))
    heard = service.create_job("scan", library_id=2, status="completed")
    expect(resync).to_have_attribute("data-job-id", str(heard.id))
    # The session ends on the server (signed out elsewhere, expired), so a session cookie that
    # a late response sets again still names no session; the CSRF cookie stays.
    for stored in react.api.settings.sessions_dir.iterdir():
        stored.unlink()
    keep = [c for c in page.context.cookies() if c["name"] == "csrftoken"]
    page.context.clear_cookies()
    page.context.add_cookies(keep)  # type: ignore[arg-type]

    resync.locator("button").click()

    expect(resync.get_by_test_id("resync-error")).to_have_text(
        "Could not start the scan: Sign in to use the jobs API."
    )
    expect(page.get_by_test_id("host-notice")).to_contain_text("Your session has ended")
    page.get_by_test_id("host-notice").get_by_role("link", name="Sign in").click()
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    page.wait_for_url(f"{react.url}/libraries/2")
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed"))
