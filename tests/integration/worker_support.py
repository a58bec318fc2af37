"""Helpers shared by the worker tests: waiting for a status, a recording host, raw row reads."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from polling import wait_until
from shisho_jobs import Database, Job, JobService, JobStatus, Library, hookimpl
from shisho_jobs.context import JobContext
from shisho_jobs.schema import JobEventRow, JobRow

T = TypeVar("T")
POLL_STEP = 0.01  # seconds a blocked scan waits between two looks at "cancelled"
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED)


def wait_for_status(
    service: JobService, job_id: int, statuses: tuple[JobStatus, ...], *, timeout: float = 15.0
) -> Job:
    """The job once its status is one of ``statuses``."""

    def check() -> Job | None:
        job = service.retrieve_job(job_id)
        return job if job.status in statuses else None

    return wait_until(check, timeout=timeout, what=f"job {job_id} is {statuses}")


def row_of(database: Database, job_id: int) -> JobRow:
    """The raw ``jobs`` row (for bookkeeping the API does not show, such as ``crash_count``)."""
    with database.read() as session:
        row = session.get(JobRow, job_id)
        assert row is not None
        return row


def event_statuses(database: Database, job_id: int) -> list[tuple[str, str]]:
    """``(event, status)`` of every outbox event of a job, oldest first."""
    query = sa.select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id)
    with database.read() as session:
        return [
            (row.event, msgspec.json.decode(row.job_json)["status"])
            for row in session.scalars(query)
        ]


class RecordingHost:
    """An in-process host plugin that records every library hook call.

    Args:
        libraries: the libraries it knows, by id.
        failing: ids whose scan raises.
        scanner: whether it answers ``scan_library`` at all.
    """

    def __init__(
        self,
        libraries: dict[int, str] | None = None,
        *,
        failing: frozenset[int] = frozenset(),
        scanner: bool = True,
    ) -> None:
        names = libraries if libraries is not None else {1: "Books", 2: "Comics", 3: "Broken"}
        self.libraries = {i: Library(id=i, name=name) for i, name in names.items()}
        self.failing = failing
        self.scanner = scanner
        self.calls: list[tuple[str, Any]] = []
        self.release = threading.Event()
        """Scans block until this is set, when ``block`` is on."""
        self.block = False
        self.scanning = threading.Event()

    @hookimpl
    def list_libraries(self) -> list[Library]:
        self.calls.append(("list_libraries", None))
        return list(self.libraries.values())

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        self.calls.append(("get_library", library_id))
        return self.libraries.get(library_id)

    @hookimpl
    def scan_library(self, library: Library, context: JobContext) -> dict[str, Any] | None:
        if not self.scanner:
            return None
        self.calls.append(("scan_library", library.id))
        self.scanning.set()
        if self.block:
            while not self.release.wait(POLL_STEP):
                if context.cancelled:
                    return {"interrupted": True}
        if library.id in self.failing:
            raise FileNotFoundError(f"folder of {library.name} is missing")
        context.log.warn("one unreadable file", {"file": "bad.epub"})
        context.progress(1, 1)
        return {"files": 1}

    def scanned(self) -> list[int]:
        """Ids passed to ``scan_library``, in call order."""
        return [value for name, value in self.calls if name == "scan_library"]
