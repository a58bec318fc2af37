"""The reference host's scan as the job tells it: its counts as the result, its warnings,
and a cancel that stops between files, keeps what was read and removes nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pluggy
import sqlalchemy as sa

from library_host.models import books
from library_host.sample_data import write_books
from shisho_jobs import Database, Job, JobService, Library, ScanResult, hookimpl
from shisho_jobs.enums import JobStatus

from .conftest import DEADLINE, Scans


def _paths(database: Database) -> set[str]:
    with database.read() as session:
        return set(session.scalars(sa.select(books.c.path)))


def _folder(library: Library) -> Path:
    assert library.path is not None
    return Path(library.path)


def test_a_scan_reports_its_counts_and_warnings_as_its_result(
    library: Library, scans: Scans
) -> None:
    write_books(_folder(library), 3)
    (_folder(library) / "Damaged.epub").write_bytes(b"cut short")

    job = scans.scan()

    assert job.status == JobStatus.COMPLETED
    assert job.result == ScanResult(files=4, added=3, updated=0, removed=0, unchanged=0, warnings=1)
    assert job.warnings == 1

    again = scans.scan()
    assert again.result == ScanResult(
        files=4, added=0, updated=0, removed=0, unchanged=3, warnings=1
    )


class CancelOnFirstProgress:
    """Asks for the scan to be cancelled when it first reports progress."""

    def __init__(self, service: JobService) -> None:
        self.service = service
        self.asked = threading.Event()

    @hookimpl
    def job_progress(self, job: Job) -> None:
        if not self.asked.is_set():
            self.service.cancel_job(job.id)
            self.asked.set()


def test_a_cancelled_scan_keeps_what_it_read_and_removes_nothing(
    host_database: Database,
    library: Library,
    scans: Scans,
    worker_plugins: pluggy.PluginManager,
) -> None:
    written = write_books(_folder(library), 5)
    scans.scan()
    (_folder(library) / written[0].relative_path).unlink()  # gone, but the walk is partial
    write_books(_folder(library) / "more", 2000, seed=11)
    canceller = CancelOnFirstProgress(scans.service)
    worker_plugins.register(canceller)

    job = scans.create()
    with scans.worker():
        assert canceller.asked.wait(DEADLINE), "the scan reports progress"
        done = scans.wait_until_finished(job)

    assert (done.status, done.error, done.cancel_requested) == (JobStatus.CANCELLED, None, True)
    catalogue = _paths(host_database)
    assert written[0].relative_path in catalogue, "a cancelled scan removes nothing"
    assert 5 < len(catalogue) < 5 + 2000, "it kept what it had read and stopped early"
    assert isinstance(done.result, ScanResult)
    assert done.result.removed == 0
    assert done.result.added == len(catalogue) - 5
