"""The job page and the jobs list tell the whole truth (issue 10): result counts, warnings
first with their file and reason, trigger, attempts, duration, waiting, cancel and retry for
those who may, and the live workers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from library_host.database import get_database
from library_host.demo import DAMAGED_FILE_NAME
from library_host.job_view import format_duration
from library_host.settings import HostSettings
from polling import wait_until
from shisho_jobs import Job, JobService, Worker, get_plugin_manager
from shisho_jobs.workers import WorkerRegistration, register_worker

from .conftest import host_client, sign_in, small_demo

DEADLINE = 30.0  # seconds
BOOKS = 5


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HostSettings:
    """A small demo (5 books and a damaged file, 2 comics); no in-process worker."""
    return small_demo(tmp_path / "data", monkeypatch, None, books=BOOKS, comics=2)


@pytest.fixture
def client(settings: HostSettings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with host_client(settings) as test_client:
        yield test_client


@pytest.fixture
def service(settings: HostSettings) -> JobService:
    return JobService(get_database(settings.database_url), plugin_manager=get_plugin_manager())


def _run_scans(settings: HostSettings, service: JobService, *library_ids: int) -> list[Job]:
    database = get_database(settings.database_url)
    worker = Worker(database, plugin_manager=get_plugin_manager(), poll_interval=0.05)
    worker.start()
    try:
        jobs = [service.create_job("scan", library_id=library_id) for library_id in library_ids]
        wait_until(
            lambda: not any(service.retrieve_job(job.id).is_active for job in jobs),
            timeout=DEADLINE,
            what="the scans finish",
        )
    finally:
        worker.stop()
    return [service.retrieve_job(job.id) for job in jobs]


def _counts(html: str) -> dict[str, int]:
    result = html.split('data-testid="job-result"', 1)[1].split("</div>\n</section>", 1)[0]
    return {
        name: int(value)
        for name, value in re.findall(r'data-count="(\w+)"><dt>\w+</dt><dd>(\d+)</dd>', result)
    }


def _testid_text(html: str, test_id: str) -> str:
    match = re.search(rf'data-testid="{test_id}"[^>]*>(.*?)</', html, re.DOTALL)
    assert match, f"no {test_id}"
    return match.group(1).strip()


def test_a_scan_with_a_damaged_file_shows_its_counts_and_the_warning_first(
    settings: HostSettings,
    client: TestClient,  # type: ignore[type-arg]
    service: JobService,
) -> None:
    books, broken = _run_scans(settings, service, 1, 3)
    sign_in(client, "admin")

    page = client.get(f"/settings/jobs/{books.id}").text

    assert _counts(page) == {
        "files": BOOKS + 1,
        "added": BOOKS,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
        "warnings": 1,
    }
    assert _testid_text(page, "job-trigger") == "Started by hand"
    assert _testid_text(page, "job-attempts") == "1"
    assert re.fullmatch(r"\d+\.\d s", _testid_text(page, "job-duration"))
    # The warning, with its file and its reason, comes before the log.
    assert page.index('data-testid="job-warning"') < page.index('data-testid="job-logs"')
    assert _testid_text(page, "job-warning-file") == DAMAGED_FILE_NAME
    assert _testid_text(page, "job-warning-reason")
    assert 'data-testid="no-warnings" hidden' in page
    # Finished: "scan again" is offered, cancel is not.
    assert re.search(r'data-testid="job-cancel"[^>]* hidden', page)
    assert re.search(r'data-testid="job-retry"[^>]*>Scan again<', page)
    assert not re.search(r'data-testid="job-retry"[^>]* hidden', page)

    failed = client.get(f"/settings/jobs/{broken.id}").text
    assert "does not exist" in _testid_text(failed, "job-error")

    jobs = client.get("/settings/jobs").text
    row = jobs.split(f'data-job-id="{books.id}"', 1)[1].split("</tr>", 1)[0]
    assert _testid_text(row, "job-row-trigger") == "manual"
    assert _testid_text(row, "job-row-result") == f"{BOOKS} added, 0 updated, 0 removed"
    assert _testid_text(row, "job-row-warnings") == "1 warning"


def test_a_pending_job_without_a_worker_says_it_waits_and_offers_cancel(
    client: TestClient,  # type: ignore[type-arg]
    service: JobService,
) -> None:
    job = service.create_job("scan", library_id=2)
    sign_in(client, "admin")

    page = client.get(f"/settings/jobs/{job.id}").text
    jobs = client.get("/settings/jobs").text

    assert _testid_text(page, "job-notice") == "Waiting: No worker is running."
    assert not re.search(r'data-testid="job-cancel"[^>]* hidden', page)
    assert re.search(r'data-testid="job-retry"[^>]* hidden', page)
    assert _testid_text(page, "job-duration") == "—"
    assert "Not finished yet." in page
    assert not re.search(r'data-testid="no-workers"[^>]* hidden', jobs)
    assert 'data-testid="worker-row"' not in jobs


def test_the_jobs_list_shows_the_live_workers(
    settings: HostSettings,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    with get_database(settings.database_url).write() as session:
        register_worker(
            session.connection(),
            WorkerRegistration(
                id="w-1", host="shelf-host", pid=4242, concurrency=2, job_types=("scan",)
            ),
            lease_seconds=600,
        )
    sign_in(client, "viewer")

    jobs = client.get("/settings/jobs").text

    row = jobs.split('data-testid="worker-row"', 1)[1].split("</tr>", 1)[0]
    assert all(text in row for text in ("w-1", "shelf-host", "4242", ">2<", "scan"))
    assert re.search(r'data-testid="no-workers"[^>]* hidden', jobs)


@pytest.mark.parametrize("username", ["viewer", "librarian"])
def test_who_may_not_cancel_or_retry_sees_neither_button(
    client: TestClient,  # type: ignore[type-arg]
    service: JobService,
    username: str,
) -> None:
    # The viewer lacks jobs:write; the librarian may write but not for every library.
    job = service.create_job("scan")
    sign_in(client, username)

    page = client.get(f"/settings/jobs/{job.id}").text

    assert 'data-testid="job-status"' in page
    assert 'data-testid="job-cancel"' not in page
    assert 'data-testid="job-retry"' not in page


def test_the_librarian_may_cancel_a_scan_of_her_library(
    client: TestClient,  # type: ignore[type-arg]
    service: JobService,
) -> None:
    job = service.create_job("scan", library_id=1)
    sign_in(client, "librarian")

    page = client.get(f"/settings/jobs/{job.id}").text

    assert 'data-testid="job-cancel"' in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0 s"), (4.25, "4.2 s"), (125, "2 min 5 s"), (3 * 3600 + 120, "3 h 2 min")],
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
