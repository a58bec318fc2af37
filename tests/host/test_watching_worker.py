"""A real worker watching the reference host's library folders (SQLite and PostgreSQL).

Files are copied, changed, deleted and moved in a real folder; the worker's watcher starts
the scans (``trigger: "watch"``), its slots run them with the host's scanner, and the tests
look at what a reader sees: the catalogue, the scans and their counts.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pluggy
import sqlalchemy as sa

import polling
from library_host import catalog
from library_host.models import books
from library_host.sample_data import epub_bytes, write_books
from shisho_jobs import Database, Job, JobService, Library, ListJobsOptions, Worker
from shisho_jobs.enums import JobStatus
from shisho_jobs.watch import WatchSettings

from .conftest import DEADLINE, Scans

WATCH = WatchSettings(
    debounce_seconds=0.5, max_wait_seconds=5, poll_seconds=0.3, refresh_seconds=0.5
)
POLL_STEP = 0.05  # seconds between two looks while waiting
T = TypeVar("T")


def _wait(check: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    return polling.wait_until(check, timeout=timeout, what=what, interval=POLL_STEP)


def _catalogue(database: Database, library_id: int = 1) -> dict[str, int]:
    with database.read() as session:
        query = sa.select(books.c.path, books.c.size).where(books.c.library_id == library_id)
        return {path: size for path, size in session.execute(query)}


def _scans(service: JobService, library_id: int | None = 1) -> list[Job]:
    jobs = service.list_jobs(ListJobsOptions(type="scan", limit=100))
    return sorted((j for j in jobs if j.library_id == library_id), key=lambda j: j.id)


def _quiet(service: JobService, workers: list[Worker]) -> bool:
    """No scan pending or running, and no change waiting in any watcher."""
    active = service.list_jobs(ListJobsOptions(statuses=["pending", "in_progress"], limit=1))
    waiting = any(h.pending_changes for w in workers for h in w.watch_health())
    return not active and not waiting


def _write(folder: Path, relative: str, title: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(epub_bytes(title, "Watched Author", relative))
    return path


@contextmanager
def _watching(
    database: Database, plugins: pluggy.PluginManager, settings: WatchSettings = WATCH
) -> Iterator[Worker]:
    worker = Worker(database, plugin_manager=plugins, poll_interval=0.05, watch=settings)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(timeout=DEADLINE)


def _watched(worker: Worker, library_id: int = 1, state: str = "events") -> bool:
    return any(h.library_id == library_id and h.state == state for h in worker.watch_health())


def test_new_changed_deleted_and_moved_files_reach_the_catalogue(
    host_database: Database, library: Library, scans: Scans, worker_plugins: pluggy.PluginManager
) -> None:
    folder = Path(str(library.path))
    _write(folder, "Austen/Emma.epub", "Emma")
    _write(folder, "Austen/Persuasion.epub", "Persuasion")
    _write(folder, "Bronte/Villette.epub", "Villette")
    scans.scan()
    with _watching(host_database, worker_plugins) as worker:
        _wait(lambda: _watched(worker), "the library watched")
        _write(folder, "Dickens/Bleak House.epub", "Bleak House")  # new
        (folder / "Austen" / "Emma.epub").write_bytes(epub_bytes("Emma", "Austen", "v2") * 2)
        (folder / "Bronte" / "Villette.epub").unlink()  # deleted
        (folder / "Austen" / "Persuasion.epub").rename(folder / "Bronte" / "Persuasion.epub")
        _wait(lambda: "Dickens/Bleak House.epub" in _catalogue(host_database), "the new book")
        _wait(lambda: _quiet(scans.service, [worker]), "the watch scans to finish")
    catalogue = _catalogue(host_database)
    assert set(catalogue) == {
        "Austen/Emma.epub",
        "Bronte/Persuasion.epub",
        "Dickens/Bleak House.epub",
    }
    assert catalogue["Austen/Emma.epub"] == (folder / "Austen" / "Emma.epub").stat().st_size
    watch_scans = [job for job in _scans(scans.service) if job.trigger == "watch"]
    assert watch_scans and all(job.status == JobStatus.COMPLETED for job in watch_scans)
    assert all(job.data.paths for job in watch_scans)  # targeted, never the whole library


def test_a_burst_copy_makes_at_most_two_scans(
    host_database: Database,
    library: Library,
    scans: Scans,
    worker_plugins: pluggy.PluginManager,
    tmp_path: Path,
) -> None:
    staging = tmp_path / "download"
    write_books(staging, 200, seed=3)
    with _watching(host_database, worker_plugins) as worker:
        _wait(lambda: _watched(worker), "the library watched")
        shutil.copytree(staging, Path(str(library.path)) / "Collection")
        _wait(lambda: len(_catalogue(host_database)) == 200, "all 200 books catalogued")
        _wait(lambda: _quiet(scans.service, [worker]), "the watch scans to finish")
    assert 1 <= len(_scans(scans.service)) <= 2


def test_a_file_still_being_written_is_read_once_complete(
    host_database: Database, library: Library, scans: Scans, worker_plugins: pluggy.PluginManager
) -> None:
    folder = Path(str(library.path))
    content = epub_bytes("A Long Copy", "Slow Writer", "slow") * 20
    settings = WatchSettings(debounce_seconds=1.0, max_wait_seconds=1.5, refresh_seconds=60)
    finished = threading.Event()

    def copy_slowly() -> None:
        with (folder / "Slow.epub").open("wb") as file:
            for start in range(0, len(content), len(content) // 60 + 1):
                file.write(content[start : start + len(content) // 60 + 1])
                file.flush()
                time.sleep(0.05)
        finished.set()

    with _watching(host_database, worker_plugins, settings) as worker:
        _wait(lambda: _watched(worker), "the library watched")
        writer = threading.Thread(target=copy_slowly)
        writer.start()
        writer.join()
        _wait(lambda: "Slow.epub" in _catalogue(host_database), "the book catalogued")
        _wait(lambda: _quiet(scans.service, [worker]), "the watch scans to finish")
    assert _catalogue(host_database)["Slow.epub"] == len(content)
    # Nobody read it half-written: no scan ever saw an unreadable (cut short) file.
    assert all(job.warnings == 0 for job in _scans(scans.service))


def test_changes_during_a_scan_get_exactly_one_follow_up(
    host_database: Database, library: Library, scans: Scans, worker_plugins: pluggy.PluginManager
) -> None:
    folder = Path(str(library.path))
    write_books(folder / "Many", 1500, seed=4)  # a first scan that reads for a while
    with _watching(host_database, worker_plugins) as worker:
        _wait(lambda: _watched(worker), "the library watched")
        running = scans.create()
        _wait(lambda: scans.service.retrieve_job(running.id).progress > 5, "the scan under way")
        _write(folder, "Late/Arrival.epub", "Arrival")
        _write(folder, "Late/Second.epub", "Second")
        _wait(lambda: "Late/Second.epub" in _catalogue(host_database), "the late books")
        _wait(lambda: _quiet(scans.service, [worker]), "the follow-up to finish")
    after = [job for job in _scans(scans.service) if job.id > running.id]
    assert len(after) == 1
    assert after[0].trigger == "watch"
    assert after[0].data.paths == ["Late"]


def test_a_library_added_while_the_worker_runs_is_watched(
    host_database: Database,
    library: Library,
    scans: Scans,
    worker_plugins: pluggy.PluginManager,
    tmp_path: Path,
) -> None:
    comics = tmp_path / "comics"
    comics.mkdir()
    with _watching(host_database, worker_plugins) as worker:
        _wait(lambda: _watched(worker), "library 1 watched")
        catalog.ensure_library(host_database, 2, "Comics", str(comics))
        _wait(lambda: _watched(worker, 2), "the new library watched")
        _write(comics, "Tintin.epub", "Tintin")
        _wait(lambda: "Tintin.epub" in _catalogue(host_database, 2), "the new library's book")


def test_watching_off_starts_no_watcher_and_no_scan(
    host_database: Database, library: Library, scans: Scans, worker_plugins: pluggy.PluginManager
) -> None:
    folder = Path(str(library.path))
    off = WatchSettings(enabled=False)
    with _watching(host_database, worker_plugins, off) as worker:
        _write(folder, "Unseen.epub", "Unseen")
        time.sleep(1.0)  # longer than WATCH's quiet window: nothing may happen meanwhile
        assert worker.watch_health() == []
        assert not [t for t in threading.enumerate() if t.name.startswith("shisho-watch")]
    assert _scans(scans.service) == []


def test_a_library_set_to_off_is_not_watched_and_one_set_to_poll_is_polled(
    host_database: Database,
    library: Library,
    scans: Scans,
    worker_plugins: pluggy.PluginManager,
    tmp_path: Path,
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    catalog.ensure_library(host_database, 1, "Books", str(library.path), watch="off")
    catalog.ensure_library(host_database, 2, "NAS", str(nas), watch="poll")
    with _watching(host_database, worker_plugins) as worker:
        _wait(lambda: _watched(worker, 2, "poll"), "the NAS library polled")
        assert [h.library_id for h in worker.watch_health()] == [2]
        _write(nas, "Polled.epub", "Polled")
        _write(Path(str(library.path)), "Ignored.epub", "Ignored")
        _wait(lambda: "Polled.epub" in _catalogue(host_database, 2), "the polled book")
        _wait(lambda: _quiet(scans.service, [worker]), "the scan to finish")
    assert _catalogue(host_database, 1) == {}


def test_two_workers_watching_one_library_start_one_scan(
    host_database: Database, library: Library, scans: Scans, worker_plugins: pluggy.PluginManager
) -> None:
    folder = Path(str(library.path))
    with (
        _watching(host_database, worker_plugins) as first,
        _watching(host_database, worker_plugins) as second,
    ):
        _wait(lambda: _watched(first) and _watched(second), "both watching")
        _write(folder, "Shared/One.epub", "One")
        _wait(lambda: "Shared/One.epub" in _catalogue(host_database), "the book")
        _wait(lambda: _quiet(scans.service, [first, second]), "both quiet")
    assert len(_scans(scans.service)) == 1
