"""The scan_library implementation, run by a real worker: catalogue, rescan, removal,
warnings, failure and interruption, as the job's page and the library's page show them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pluggy
import sqlalchemy as sa

from library_host import catalog
from library_host.models import books
from library_host.sample_data import epub_bytes, write_books, write_comics
from shisho_jobs import Database, Job, Library, Worker, hookimpl
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.worker.runner import INTERRUPTED_MESSAGE

from .conftest import DEADLINE, Scans


def _catalogue(database: Database) -> dict[str, tuple[str, str | None, str]]:
    with database.read() as session:
        rows = session.execute(
            sa.select(books.c.path, books.c.title, books.c.author, books.c.format)
        )
        return {path: (title, author, fmt) for path, title, author, fmt in rows}


def _folder(library: Library) -> Path:
    assert library.path is not None
    return Path(library.path)


def _counts(summary: dict[str, object], *names: str) -> tuple[object, ...]:
    return tuple(summary[name] for name in names)


def test_first_scan_catalogues_every_book_with_its_metadata(
    host_database: Database, library: Library, scans: Scans
) -> None:
    written = write_books(_folder(library), 12)
    comics = write_comics(_folder(library) / "Comics", 3)
    (_folder(library) / "Notes.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (_folder(library) / "cover.jpg").write_bytes(b"\xff\xd8")  # not a book: ignored

    job = scans.scan()

    assert (job.status, job.error, job.progress) == (JobStatus.COMPLETED, None, 100)
    assert _counts(scans.summary(job), "added", "files") == (16, 16)
    catalogue = _catalogue(host_database)
    for book in written:
        assert catalogue[book.relative_path] == (book.title, book.author, "epub")
    assert catalogue[f"Comics/{comics[0].relative_path}"][0] == comics[0].title
    assert catalogue["Notes.pdf"] == ("Notes", None, "pdf")
    shown = scans.progress_shown(job)
    assert shown and shown[-1] == 100 and shown == sorted(shown)
    assert scans.logs(job, LogLevel.WARN) == []


def test_unchanged_rescan_reads_and_writes_nothing(
    host_database: Database, library: Library, scans: Scans
) -> None:
    write_books(_folder(library), 8)
    scans.scan()
    with host_database.read() as session:
        scanned_at = session.scalars(sa.select(books.c.scanned_at).order_by(books.c.id)).all()

    job = scans.scan()

    summary = scans.summary(job)
    assert _counts(summary, "unchanged", "added", "updated", "removed") == (8, 0, 0, 0)
    with host_database.read() as session:
        assert (
            session.scalars(sa.select(books.c.scanned_at).order_by(books.c.id)).all() == scanned_at
        )


def test_changed_file_is_read_again_and_vanished_file_removed(
    host_database: Database, library: Library, scans: Scans
) -> None:
    written = write_books(_folder(library), 3)
    scans.scan()
    changed = _folder(library) / written[0].relative_path
    changed.write_bytes(epub_bytes("A New Edition", "Someone Else", "id-new"))
    os.utime(changed, ns=(1_000_000_000, 1_000_000_000))
    (_folder(library) / written[1].relative_path).unlink()

    job = scans.scan()

    assert _counts(scans.summary(job), "updated", "removed", "unchanged") == (1, 1, 1)
    catalogue = _catalogue(host_database)
    assert catalogue[written[0].relative_path] == ("A New Edition", "Someone Else", "epub")
    assert written[1].relative_path not in catalogue


def test_force_rereads_unchanged_files(library: Library, scans: Scans) -> None:
    write_books(_folder(library), 4)
    scans.scan()

    job = scans.scan(force=True)

    assert _counts(scans.summary(job), "updated", "unchanged") == (4, 0)


def test_unreadable_file_is_a_warning_not_a_failure(
    host_database: Database, library: Library, scans: Scans
) -> None:
    write_books(_folder(library), 2)
    (_folder(library) / "Damaged.epub").write_bytes(b"cut short")

    job = scans.scan()

    assert job.status == JobStatus.COMPLETED and job.error is None
    assert _counts(scans.summary(job), "added", "unreadable") == (2, 1)
    warnings = scans.logs(job, LogLevel.WARN)
    assert len(warnings) == 1 and "Damaged.epub" in warnings[0].message
    assert warnings[0].data is not None and warnings[0].data["path"] == "Damaged.epub"
    assert "Damaged.epub" not in _catalogue(host_database)


def test_missing_folder_fails_the_scan_with_a_clear_message(
    host_database: Database, tmp_path: Path, scans: Scans
) -> None:
    gone = tmp_path / "unplugged-drive"
    catalog.ensure_library(host_database, 2, "Broken", str(gone))

    job = scans.scan(library_id=2)

    assert job.status == JobStatus.FAILED and job.error is not None
    assert str(gone) in job.error and "does not exist" in job.error
    [error] = scans.logs(job, LogLevel.ERROR)
    # An expected failure (JobFailed): the page shows the explanation, no stack trace.
    assert error.message.startswith(job.error) and error.stack_trace is None


class StopWorkerOnFirstProgress:
    """A plugin asking the worker to stop (as SIGTERM does) when a job first reports progress."""

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.stop_requested = threading.Event()

    @hookimpl
    def job_progress(self, job: Job) -> None:
        """Stop the worker once, mid-job."""
        if self.worker is not None and not self.stop_requested.is_set():
            self.worker.request_stop()
            self.stop_requested.set()


def test_scan_interrupted_by_worker_shutdown_is_requeued_and_removes_nothing(
    host_database: Database,
    library: Library,
    scans: Scans,
    worker_plugins: pluggy.PluginManager,
) -> None:
    written = write_books(_folder(library), 5)
    scans.scan()
    (_folder(library) / written[0].relative_path).unlink()
    # Enough new files that the scan is still reading when the worker stops at 1 %.
    write_books(_folder(library) / "more", 2000, seed=9)
    stopper = StopWorkerOnFirstProgress()
    worker_plugins.register(stopper)

    with scans.worker() as worker:
        stopper.worker = worker
        job = scans.create()
        assert stopper.stop_requested.wait(DEADLINE), "the scan reports progress"
    interrupted = scans.service.retrieve_job(job.id)

    assert (interrupted.status, interrupted.error) == (JobStatus.PENDING, None)
    assert INTERRUPTED_MESSAGE in [line.message for line in scans.logs(job, LogLevel.INFO)]
    catalogue = _catalogue(host_database)
    assert written[0].relative_path in catalogue, "an interrupted scan removes nothing"
    assert 5 < len(catalogue) < 5 + 2000, "it kept what it had read and stopped before the end"

    worker_plugins.unregister(stopper)
    finished = scans.run(job)

    assert (finished.status, finished.attempt) == (JobStatus.COMPLETED, 2)
    assert scans.summary(finished)["removed"] == 1
    catalogue = _catalogue(host_database)
    assert len(catalogue) == 4 + 2000 and written[0].relative_path not in catalogue


def test_batches_larger_than_one_write_are_all_stored(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    for number in range(1234):
        (folder / f"doc-{number:04d}.pdf").write_bytes(b"%PDF-1.4\n")

    job = scans.scan()

    assert scans.summary(job)["added"] == 1234
    assert len(_catalogue(host_database)) == 1234
