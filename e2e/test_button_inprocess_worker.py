"""The resync button against the reference host with its in-process worker (``make demo``)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from library_host.database import get_database
from library_host.sample_data import epub_bytes
from shisho_jobs import JobService

from .checks import broken_library_button
from .conftest import Host, api_json, button, login, make_host, screenshot, wait_until

# The in-process worker may finish a small rescan before the POST that created it
# has answered; the button keeps the events that arrive meanwhile, so "completed"
# follows within a scan's time plus slack for a loaded machine, never a 30 s poll.
AFTER_CLICK_MS = 15_000
SCAN_DEADLINE_S = 30.0
# Books (library 1) has a damaged file: its scans complete with a warning, which the button
# shows as "warning" (CONTRACT section 5).
JUST_NOW_ONE_WARNING = re.compile(
    r"^Last synced (less than a minute ago|1 minute ago) - 1 warning$"
)
BOOKS_SETTLED = re.compile("idle|completed|warning")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(tmp_path_factory.mktemp("inprocess"), inprocess_worker=True)
    host.start()
    yield host
    host.stop()


def _latest_scan_id(page: Page, host: Host, library_id: int) -> int | None:
    jobs = api_json(page, host, f"/api/jobs?type=scan&library_id_or_global={library_id}&limit=1")
    return jobs["jobs"][0]["id"] if jobs["jobs"] else None


def test_button_sits_right_after_the_library_switcher(page: Page, host: Host) -> None:
    login(page, host, "admin", then="/libraries/1")

    following = page.evaluate(
        """() => {
            const switcher = document.querySelector('[data-testid="library-switcher"]');
            let node = switcher.nextElementSibling;
            while (node && node.tagName === "SCRIPT") node = node.nextElementSibling;
            return node && node.outerHTML.split(">")[0];
        }"""
    )

    assert following.startswith('<shisho-resync-button library-id="1"')
    expect(button(page, 1)).to_have_attribute("data-state", BOOKS_SETTLED)
    screenshot(page, "01-idle")


def test_click_creates_a_scan_that_completes_and_reads_last_synced(page: Page, host: Host) -> None:
    login(page, host, "admin", then="/libraries/1")
    resync = button(page, 1)
    expect(resync).to_have_attribute("data-state", BOOKS_SETTLED)
    before = _latest_scan_id(page, host, 1)

    resync.locator("button").click()

    expect(resync).to_have_attribute("data-state", "warning", timeout=AFTER_CLICK_MS)
    after = _latest_scan_id(page, host, 1)
    assert after is not None and after != before
    expect(resync.locator("button")).to_have_attribute("aria-label", JUST_NOW_ONE_WARNING)
    screenshot(page, "02-completed-last-synced")
    page.goto(f"{host.url}/settings/jobs")
    row = page.locator(f'[data-testid="job-row"][data-job-id="{after}"]')
    expect(row).to_have_attribute("data-status", "completed")
    expect(page.locator('[data-testid="job-row"]').first).to_have_attribute(
        "data-job-id", str(after)
    )
    page.goto(f"{host.url}/libraries/1")
    expect(page.locator('[data-testid="book-row"]')).to_have_count(40)
    # The damaged file did not fail the scan, and its job page says why it was skipped.
    page.goto(f"{host.url}/settings/jobs/{after}")
    warning = page.locator('[data-testid="job-log"][data-level="warn"]')
    expect(warning).to_contain_text("Damaged download.epub")
    screenshot(page, "02c-completed-job-page-with-warning")


def test_new_book_file_appears_after_a_resync(page: Page, host: Host) -> None:
    folder = host.libraries_dir / "books" / "New Arrivals"
    folder.mkdir(exist_ok=True)
    source = folder / "staging.epub"
    source.write_bytes(epub_bytes("A Freshly Copied Book", "Nora Newfile", "e2e-new"))
    shutil.move(source, folder / "Freshly Copied.epub")
    login(page, host, "admin", then="/libraries/1")
    resync = button(page, 1)
    expect(resync).to_have_attribute("data-state", BOOKS_SETTLED)
    expect(page.get_by_text("A Freshly Copied Book")).to_have_count(0)
    before = _latest_scan_id(page, host, 1)

    resync.locator("button").click()

    expect(resync).not_to_have_attribute("data-job-id", str(before))
    expect(resync).to_have_attribute("data-state", "warning", timeout=AFTER_CLICK_MS)
    page.reload()
    expect(page.get_by_text("A Freshly Copied Book")).to_be_visible()
    screenshot(page, "03-new-book-after-resync")


def test_failed_scan_shows_the_badge_and_opens_the_logs(page: Page, host: Host) -> None:
    resync = broken_library_button(page, host)

    expect(resync).to_have_attribute("data-state", "failed", timeout=AFTER_CLICK_MS)
    expect(resync.locator("button")).to_have_attribute("aria-label", "Last scan failed - view logs")
    expect(resync.locator(".badge")).to_be_visible()
    screenshot(page, "04-failed-badge")
    job_id = resync.get_attribute("data-job-id")

    resync.locator("button").click()

    page.wait_for_url(f"{host.url}/settings/jobs/{job_id}")
    expect(page.locator('[data-testid="job-status"]')).to_have_text("failed")
    expect(
        page.locator('[data-testid="job-log"]').filter(has_text="does not exist")
    ).not_to_have_count(0)
    screenshot(page, "05-failed-job-page")


def test_jobs_page_filters_by_status_and_library(page: Page, host: Host) -> None:
    login(page, host, "admin", then="/libraries/3")
    expect(button(page, 3)).to_have_attribute("data-state", re.compile("idle|failed"))
    if button(page, 3).get_attribute("data-state") == "idle":
        button(page, 3).locator("button").click()
    expect(button(page, 3)).to_have_attribute("data-state", "failed", timeout=AFTER_CLICK_MS)
    page.goto(f"{host.url}/settings/jobs")

    page.select_option('select[name="status"]', "failed")
    page.click('[data-testid="job-filters"] button[type="submit"]')

    page.wait_for_url(re.compile(r"status=failed"))
    rows = page.locator('[data-testid="job-row"]')
    expect(rows).not_to_have_count(0)
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.status)")) == {"failed"}
    page.select_option('select[name="status"]', "")
    page.select_option('select[name="library"]', "3")
    page.click('[data-testid="job-filters"] button[type="submit"]')
    page.wait_for_url(re.compile(r"library=3"))
    libraries = page.locator('[data-testid="job-row"] td:nth-child(3)')
    expect(libraries).not_to_have_count(0)
    assert set(libraries.all_inner_texts()) == {"Broken"}
    screenshot(page, "12-jobs-page-filtered")


@pytest.mark.parametrize(
    ("username", "library_id", "sees_button"),
    [
        ("admin", 1, True),
        ("admin", 2, True),
        ("admin", 3, True),
        ("librarian", 1, True),
        ("viewer", 1, False),
        ("viewer", 2, False),
    ],
)
def test_only_users_with_jobs_write_see_the_button(
    page: Page, host: Host, username: str, library_id: int, sees_button: bool
) -> None:
    login(page, host, username, then=f"/libraries/{library_id}")

    expect(page.locator('[data-testid="book-count"]')).to_be_visible()
    expect(page.locator("shisho-resync-button")).to_have_count(1 if sees_button else 0)


def test_librarian_sees_only_library_one(page: Page, host: Host) -> None:
    login(page, host, "librarian", then="/libraries/1")

    options = page.locator('[data-testid="library-switcher"] option').all_inner_texts()
    response = page.goto(f"{host.url}/libraries/2")

    assert options == ["Books"]
    assert response is not None and response.status == 404
    expect(page.locator("shisho-resync-button")).to_have_count(0)


def test_keyboard_enter_starts_a_scan(page: Page, host: Host) -> None:
    login(page, host, "admin", then="/libraries/2")
    resync = button(page, 2)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed"))
    before = _latest_scan_id(page, host, 2)

    resync.locator("button").focus()
    page.keyboard.press("Enter")

    expect(resync).to_have_attribute("data-state", "completed", timeout=AFTER_CLICK_MS)
    after = _latest_scan_id(page, host, 2)
    assert after is not None and after != before
    page.reload()
    expect(page.locator('[data-testid="book-row"]')).to_have_count(6)


def test_two_tabs_follow_the_same_state(context: BrowserContext, host: Host) -> None:
    first, second = context.new_page(), context.new_page()
    login(first, host, "admin", then="/libraries/1")
    second.goto(f"{host.url}/libraries/1")
    expect(button(second, 1)).to_have_attribute("data-state", BOOKS_SETTLED)
    before = _latest_scan_id(first, host, 1)

    button(first, 1).locator("button").click()

    # The second tab learns of the scan from the live events, without a click or reload.
    expect(button(second, 1)).not_to_have_attribute("data-job-id", str(before))
    expect(button(second, 1)).to_have_attribute("data-state", "warning", timeout=AFTER_CLICK_MS)


def test_scan_finishing_before_the_create_request_answers_still_ends_completed(
    page: Page, host: Host
) -> None:
    login(page, host, "admin", then="/libraries/2")
    resync = button(page, 2)
    expect(resync).to_have_attribute("data-state", re.compile("idle|completed"))
    service = JobService(get_database(host.settings.database_url))

    def answer_after_the_scan(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()
        job_id = response.json()["id"]
        wait_until(
            lambda: service.retrieve_job(job_id).status == "completed",
            timeout=SCAN_DEADLINE_S,
            what="the in-process worker finishes the scan",
        )
        route.fulfill(response=response)

    page.route(re.compile(r"/api/jobs$"), answer_after_the_scan)

    resync.locator("button").click()

    expect(resync).to_have_attribute("data-state", "completed", timeout=5_000)
