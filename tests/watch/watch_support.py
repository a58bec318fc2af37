"""Helpers of the watch tests: short settings, waiting with a deadline, what the OS holds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import msgspec

import polling
from shisho_jobs import Job, JobService, JobStatus, Library, ListJobsOptions
from shisho_jobs.watch import LibraryWatcher, WatchMode, WatchSettings, WorkerScanStarter
from shisho_jobs.worker.store import WorkerStore

T = TypeVar("T")
POLL_STEP = 0.02  # seconds between two looks while waiting for a condition
TIMEOUT = 20.0  # seconds; generous, the machine is shared

FAST = WatchSettings(
    debounce_seconds=0.3, max_wait_seconds=3.0, poll_seconds=0.2, refresh_seconds=60
)


def starter_for(service: JobService) -> WorkerScanStarter:
    """How a worker on ``service``'s database starts watch scans."""
    return WorkerScanStarter(service, WorkerStore(service.database, service.job_types))


def wait_until(check: Callable[[], T | None], *, what: str, timeout: float = TIMEOUT) -> T:
    """Poll ``check`` until it returns something truthy (tests/polling.py, this folder's
    generous deadline)."""
    return polling.wait_until(check, timeout=timeout, what=what, interval=POLL_STEP)


def scans(service: JobService, library_id: int | None = None) -> list[Job]:
    """The scans of a library (or all), oldest first."""
    jobs = service.list_jobs(ListJobsOptions(limit=100, type="scan"))
    return sorted(
        (job for job in jobs if library_id is None or job.library_id == library_id),
        key=lambda job: job.id,
    )


def scan_paths(job: Job) -> list[str] | None:
    """What a scan walks (``None``: everything)."""
    paths: list[str] | None = job.data.paths
    return paths


def finish(service: JobService, job: Job) -> Job:
    """End a scan the way a worker does (status, then finished)."""
    return service.update_job(
        msgspec_replace(job, status=JobStatus.COMPLETED, progress=100),
        columns=["status", "progress"],
    )


def start(service: JobService, job: Job) -> Job:
    """Mark a scan as running, the way a worker's claim does."""
    return service.update_job(
        msgspec_replace(job, status=JobStatus.IN_PROGRESS), columns=["status"]
    )


def msgspec_replace(job: Job, **changes: object) -> Job:
    """``job`` with some fields changed."""
    return msgspec.structs.replace(job, **changes)


def inotify_instances() -> int:
    """How many inotify instances this process holds (each watched library costs one)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if str(fd.readlink()) == "anon_inode:inotify":
                count += 1
        except OSError:
            continue
    return count


def watch_threads() -> list[str]:
    """Names of the watcher's threads alive in this process."""
    return [
        thread.name for thread in threading.enumerate() if thread.name.startswith("shisho-watch")
    ]


class Libraries:
    """The host's library list, changeable while a watcher reads it."""

    def __init__(self, *libraries: Library) -> None:
        self.items = list(libraries)

    def __call__(self) -> list[Library]:
        return list(self.items)


@contextmanager
def running_watcher(
    service: JobService, libraries: Callable[[], list[Library]], settings: WatchSettings = FAST
) -> Iterator[LibraryWatcher]:
    """A started watcher on ``service``'s database, stopped afterwards."""
    watcher = LibraryWatcher(
        list_libraries=libraries,
        starter=starter_for(service),
        settings=settings,
        process_id="test",
    )
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.stop()


def watched(watcher: LibraryWatcher, library_id: int, state: str = "events") -> bool:
    """Whether the watcher watches the library in ``state``."""
    return any(h.library_id == library_id and h.state == state for h in watcher.health())


def library(library_id: int, folder: Path, watch: WatchMode = "events") -> Library:
    """A library of the test database (ids 1-3) on ``folder``."""
    return Library(id=library_id, name=f"Library {library_id}", path=str(folder), watch=watch)
