"""Every state of issue 10 in the browser, against the reference host and real workers.

The host runs no worker of its own (``SHISHO_INPROCESS_WORKER=0``): the first test sees a
scan wait for a worker and turn active when one starts. That worker loads the
``stuck_share`` plugin, whose library never answers, so a scan stalls
(``SHISHO_STALL_SECONDS`` is small). The Books library has a damaged file (warning), the
Broken library has no folder (failed, then "scan again"), and the Big library is large
enough to be cancelled mid-way from the job page.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from library_host import catalog
from library_host.database import get_database
from library_host.demo import DAMAGED_FILE_NAME
from library_host.models import roles
from polling import wait_until
from shisho_jobs import JobService, ListJobsOptions

from .big_library import BIG_LIBRARY_FILES, BIG_LIBRARY_ID, add_big_library
from .checks import broken_library_button, has_active_jobs, icon_spins
from .conftest import BIN, Host, api_json, button, login, make_host, screenshot
from .stuck_share import STUCK_NAME

STUCK_LIBRARY_ID = 5
STALL_SECONDS = "2"
SCAN_DEADLINE = 120.0  # seconds
ERROR_SHOWN_MS = 5_000  # how long the element shows a refused click's reason (its default)
E2E_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(
        tmp_path_factory.mktemp("states"),
        inprocess_worker=False,
        SHISHO_STALL_SECONDS=STALL_SECONDS,
        SHISHO_WORKER_POLL_INTERVAL="0.2",
        SHISHO_WATCH="0",
    )
    add_big_library(host)
    stuck = host.libraries_dir / "stuck"
    stuck.mkdir()
    catalog.ensure_library(
        get_database(host.settings.database_url), STUCK_LIBRARY_ID, STUCK_NAME, str(stuck)
    )
    host.start()
    yield host
    host.stop()


def start_worker(host: Host) -> subprocess.Popen[bytes]:
    """A ``shisho-jobs worker`` with the ``stuck_share`` plugin, on the host's database."""
    python_path = os.pathsep.join(filter(None, [str(E2E_DIR), host.env.get("PYTHONPATH")]))
    with (host.settings.data_dir / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [str(BIN / "shisho-jobs"), "worker", "--plugin", "stuck_share"],
            env={**host.env, "PYTHONPATH": python_path},
            stdout=log,
            stderr=log,
        )
    host.workers.append(worker)
    return worker


@pytest.fixture
def worker(host: Host) -> None:
    """A worker runs (the one a previous test started, or a new one)."""
    if not any(process.poll() is None for process in host.workers):
        start_worker(host)


def _service(host: Host) -> JobService:
    return JobService(get_database(host.settings.database_url))


def _expect_state(resync: Locator, state: str, label: str | re.Pattern[str]) -> None:
    expect(resync).to_have_attribute("data-state", state)
    expect(resync.locator("button")).to_have_attribute("aria-label", label)


def _badge(resync: Locator) -> Locator:
    return resync.locator(".badge")


def _announced(resync: Locator) -> Locator:
    return resync.locator("[role=status]")


def _scan_from_an_idle_button(page: Page, host: Host, library_id: int) -> Locator:
    """Sign in on the library's page, see its button idle, and click it; the button."""
    login(page, host, "admin", then=f"/libraries/{library_id}")
    resync = button(page, library_id)
    _expect_state(resync, "idle", "Resync library")
    resync.locator("button").click()
    return resync


def _expect_badged_state(
    page: Page, resync: Locator, state: str, label: str, shot: str
) -> str | None:
    """The button shows ``state`` with its badge, says ``label`` aloud, does not spin, and is
    screenshotted as ``shot``; the id of the job it shows."""
    # waiting, warning and stalled look alike (a badge, no spin): one check serves all three.
    _expect_state(resync, state, label)
    expect(_announced(resync)).to_have_text(label)
    expect(_badge(resync)).to_be_visible()
    expect(_badge(resync)).to_have_attribute("data-badge", state)
    assert not icon_spins(resync)
    screenshot(page, shot)
    return resync.get_attribute("data-job-id")


def test_a_scan_waits_for_a_worker_turns_active_when_one_starts_and_is_cancelled(
    page: Page, host: Host
) -> None:
    assert not host.workers, "this test runs first, before any worker"
    resync = _scan_from_an_idle_button(page, host, BIG_LIBRARY_ID)

    job_id = _expect_badged_state(
        page, resync, "waiting", "Scan waiting - no worker is running", "states-01-waiting"
    )

    start_worker(host)  # a separate worker process: the button turns active by itself

    _expect_state(resync, "active", re.compile(r"^Scan started "))
    expect(_badge(resync)).to_be_hidden()
    assert icon_spins(resync)
    expect(resync).to_have_attribute("data-job-id", job_id or "")

    # A click opens the running scan's page, where it is cancelled.
    resync.locator("button").click()
    page.wait_for_url(f"{host.url}/settings/jobs/{job_id}")
    expect(page.get_by_test_id("job-status")).to_have_text("in_progress")
    expect(page.get_by_test_id("job-trigger")).to_have_text("Started by hand")
    expect(page.get_by_test_id("job-retry")).to_be_hidden()
    page.get_by_test_id("job-cancel").click()
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("job-cancel")).to_be_hidden()
    expect(page.get_by_test_id("job-retry")).to_be_visible()
    expect(page.get_by_test_id("job-duration")).to_have_text(re.compile(r"\d"))
    screenshot(page, "states-02-cancelled-job-page")
    job = api_json(page, host, f"/api/jobs/{job_id}")
    assert job["status"] == "cancelled" and job["result"]["removed"] == 0
    assert job["result"]["added"] < BIG_LIBRARY_FILES  # stopped mid-way, kept what it read

    page.goto(f"{host.url}/libraries/{BIG_LIBRARY_ID}")
    _expect_state(resync, "cancelled", re.compile(r"^Last scan cancelled "))
    expect(_badge(resync)).to_be_hidden()
    assert not icon_spins(resync)
    expect(page.get_by_test_id("book-count")).to_have_text(re.compile(r"^[1-9][\d,]* books?$"))

    resync.locator("button").click()  # in cancelled, a click scans again

    _expect_state(resync, "active", re.compile(r"^Scan started "))
    assert resync.get_attribute("data-job-id") != job_id
    _service(host).cancel_job(int(resync.get_attribute("data-job-id") or 0))
    _expect_state(resync, "cancelled", re.compile(r"^Last scan cancelled "))


@pytest.mark.usefixtures("worker")
def test_a_scan_with_a_damaged_file_ends_with_warnings_listed_on_its_page(
    page: Page, host: Host
) -> None:
    resync = _scan_from_an_idle_button(page, host, 1)

    job_id = _expect_badged_state(
        page,
        resync,
        "warning",
        "Last synced less than a minute ago - 1 warning",
        "states-03-warning",
    )

    page.goto(f"{host.url}/settings/jobs/{job_id}")
    warning = page.get_by_test_id("job-warning")
    expect(warning).to_have_count(1)
    expect(warning.get_by_test_id("job-warning-file")).to_have_text(DAMAGED_FILE_NAME)
    expect(warning.get_by_test_id("job-warning-reason")).not_to_be_empty()
    result = page.get_by_test_id("job-result")
    expect(result.locator('[data-count="warnings"] dd')).to_have_text("1")
    expect(result.locator('[data-count="added"] dd')).to_have_text(re.compile(r"^[1-9]\d*$"))
    # Warnings come first, before the log.
    assert page.evaluate(
        """() => Boolean(document.querySelector('[data-testid="job-warnings"]')
            .compareDocumentPosition(document.querySelector('[data-testid="job-logs"]'))
            & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    screenshot(page, "states-04-warnings-first")

    page.goto(f"{host.url}/libraries/1")
    resync.locator("button").click()  # in warning, a click scans again

    expect(resync).not_to_have_attribute("data-job-id", job_id or "")
    _expect_state(resync, "warning", re.compile(r"^Last synced .* - 1 warning$"))


@pytest.mark.usefixtures("worker")
def test_the_failed_library_is_scanned_again_from_its_job_page(page: Page, host: Host) -> None:
    resync = broken_library_button(page, host)
    _expect_state(resync, "failed", "Last scan failed - view logs")
    expect(_badge(resync)).to_have_attribute("data-badge", "failed")
    failed_id = resync.get_attribute("data-job-id")

    resync.locator("button").click()  # in failed, a click opens the logs

    page.wait_for_url(f"{host.url}/settings/jobs/{failed_id}")
    expect(page.get_by_test_id("job-error")).to_contain_text("does not exist")
    expect(page.get_by_test_id("job-cancel")).to_be_hidden()
    page.get_by_test_id("job-retry").click()

    page.wait_for_url(re.compile(rf"{re.escape(host.url)}/settings/jobs/(?!{failed_id}$)\d+$"))
    expect(page.get_by_test_id("job-trigger")).to_have_text(re.compile(r"^Started again \(retry\)"))
    expect(page.get_by_test_id("job-trigger").get_by_role("link")).to_have_text(f"job #{failed_id}")
    expect(page.get_by_test_id("job-status")).to_have_text("failed")
    screenshot(page, "states-05-retried")
    retried_id = page.url.rsplit("/", 1)[1]
    _expect_state(button(page, 3), "failed", "Last scan failed - view logs")
    expect(button(page, 3)).to_have_attribute("data-job-id", retried_id)
    page.goto(f"{host.url}/settings/jobs")
    row = page.locator(f'[data-testid="job-row"][data-job-id="{retried_id}"]')
    expect(row.get_by_test_id("job-row-trigger")).to_have_text("retry")
    expect(page.get_by_test_id("worker-row")).to_have_count(1)


@pytest.mark.usefixtures("worker")
def test_a_scan_that_stops_making_progress_is_stalled_and_cancelled(page: Page, host: Host) -> None:
    resync = _scan_from_an_idle_button(page, host, STUCK_LIBRARY_ID)

    job_id = _expect_badged_state(
        page,
        resync,
        "stalled",
        "Scan stalled - no progress for less than a minute",
        "states-06-stalled",
    )

    resync.locator("button").click()  # in stalled, a click opens the job, where cancel works

    page.wait_for_url(f"{host.url}/settings/jobs/{job_id}")
    expect(page.get_by_test_id("job-notice")).to_have_text(re.compile(r"^Stalled: no progress"))
    page.get_by_test_id("job-cancel").click()
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")
    page.goto(f"{host.url}/libraries/{STUCK_LIBRARY_ID}")
    _expect_state(resync, "cancelled", re.compile(r"^Last scan cancelled "))


@pytest.mark.usefixtures("worker")
def test_a_refused_click_shows_the_reason_on_the_button_then_the_state_returns(
    page: Page, host: Host
) -> None:
    database = get_database(host.settings.database_url)
    login(page, host, "librarian", then="/libraries/1")
    resync = button(page, 1)
    expect(resync).to_have_attribute("data-state", re.compile("idle|warning|completed"))
    label = resync.locator("button").get_attribute("aria-label") or ""
    state = resync.get_attribute("data-state") or ""
    scans = len(_service(host).list_jobs(ListJobsOptions(type="scan", library_id=1)))
    # An administrator takes jobs:write away from librarians while the page is open.
    with database.write() as session:
        session.execute(
            sa.update(roles).where(roles.c.name == "librarian").values(permissions="jobs:read")
        )
    try:
        resync.locator("button").click()

        reason = resync.get_by_test_id("resync-error")
        expect(reason).to_be_visible()
        expect(reason).to_have_text("Could not start the scan: You need the jobs:write permission.")
        expect(_announced(resync)).to_have_text(
            "Could not start the scan: You need the jobs:write permission."
        )
        screenshot(page, "states-07-refused-click")
        expect(reason).to_be_hidden(timeout=ERROR_SHOWN_MS + 10_000)
        _expect_state(resync, state, label)
    finally:
        with database.write() as session:
            session.execute(
                sa.update(roles)
                .where(roles.c.name == "librarian")
                .values(permissions="jobs:read jobs:write")
            )
    assert len(_service(host).list_jobs(ListJobsOptions(type="scan", library_id=1))) == scans


def test_no_job_is_left_running(host: Host) -> None:
    wait_until(
        lambda: not has_active_jobs(host),
        timeout=SCAN_DEADLINE,
        what="every scan has finished",
    )
