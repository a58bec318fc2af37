"""How the watcher asks for a scan: through start-or-join, so several workers make one.

The follow-up rule: a change must be seen by a scan that walks its path *after* the
change. A pending scan will (its paths are merged in first); a running scan will only
if it was created after the change, which the start-or-join answer tells without
comparing two hosts' clocks: the database's time of the scan's creation against the
database's time now minus how long the changes have been quiet (a duration measured on
the watching host). Otherwise the watcher waits for that scan to end and asks again,
which then creates exactly one follow-up, or joins the one another worker created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import msgspec

from shisho_jobs.enums import JobStatus, JobTrigger, JobType
from shisho_jobs.filters import ListJobsOptions
from shisho_jobs.payloads import JobScanData
from shisho_jobs.watch import paths as watched_paths

if TYPE_CHECKING:
    from shisho_jobs.service import JobService
    from shisho_jobs.worker.joins import JobState
    from shisho_jobs.worker.store import WorkerStore

MAX_ATTEMPTS = 5  # start-or-join rounds when the joined scan changes state meanwhile


@dataclass(frozen=True)
class ScanAnswer:
    """What came of asking for a scan of some changes."""

    job_id: int
    """The scan that was created or joined."""
    covered: bool
    """``True``: that scan will see the changes. ``False``: it is running and may have
    walked past them; ask again once it has ended."""


class ScanStarter(Protocol):
    """Starts (or joins) the scan of a library's changes."""

    def request_scan(
        self, library_id: int, paths: list[str] | None, *, quiet_for: float
    ) -> ScanAnswer:
        """Create or join a scan that sees these changes.

        Args:
            library_id: the library that changed.
            paths: what changed, relative to the library's folder; ``None``: anything.
            quiet_for: seconds since the latest of the changes.
        """
        ...

    def is_active(self, job_id: int) -> bool:
        """Whether the job is still pending or in progress."""
        ...


class WorkerScanStarter:
    """:class:`ScanStarter` of a worker: its service starts or joins, its store looks.

    Args:
        service: creates the scans (start-or-join, ``trigger: "watch"``).
        store: the worker's store: a joined scan's state, and merging into a pending one.
    """

    def __init__(self, service: JobService, store: WorkerStore) -> None:
        self.service = service
        self.store = store

    def request_scan(
        self, library_id: int, paths: list[str] | None, *, quiet_for: float
    ) -> ScanAnswer:
        """See :meth:`ScanStarter.request_scan`."""
        finished = self._finished_scan_covering(library_id, paths, quiet_for)
        if finished is not None:
            # Another worker's scan, created after these changes, already walked them.
            return ScanAnswer(finished, covered=True)
        job_id = 0
        for _attempt in range(MAX_ATTEMPTS):
            job, created = self.service.start_or_join(
                JobType.SCAN.value,
                JobScanData(paths=paths),
                library_id=library_id,
                trigger=JobTrigger.WATCH,
            )
            job_id = job.id
            if created:
                return ScanAnswer(job.id, covered=True)
            if job.status == JobStatus.PENDING and self.store.update_pending_data(
                job.id, lambda data: _merged(data, paths)
            ):
                return ScanAnswer(job.id, covered=True)
            state = self.store.job_state(job.id)
            if state is not None and state.status == JobStatus.IN_PROGRESS:
                return ScanAnswer(job.id, covered=_running_covers(state, paths, quiet_for))
            # It started or ended between two statements: look again.
        return ScanAnswer(job_id, covered=False)

    def _finished_scan_covering(
        self, library_id: int, paths: list[str] | None, quiet_for: float
    ) -> int | None:
        """The id of the newest scan of this scope if it completed, walks ``paths`` and was
        created after the changes (so it read them), else ``None``."""
        newest = self.service.list_jobs(
            ListJobsOptions(type=JobType.SCAN.value, library_id_or_global=library_id, limit=1)
        )
        if not newest or newest[0].status != JobStatus.COMPLETED:
            return None
        state = self.store.job_state(newest[0].id)
        if state is None or not _running_covers(state, paths, quiet_for):
            return None
        return newest[0].id

    def is_active(self, job_id: int) -> bool:
        """See :meth:`ScanStarter.is_active`."""
        state = self.store.job_state(job_id)
        return state is not None and state.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)


def _merged(stored: str, paths: list[str] | None) -> str | None:
    """A pending scan's data with ``paths`` added; ``None`` when it walks them already."""
    data = msgspec.json.decode(stored, type=JobScanData)
    if watched_paths.covers(data.paths, paths):
        return None
    merged = JobScanData(force=data.force, paths=watched_paths.merge(data.paths, paths))
    return msgspec.json.encode(merged).decode()


def _running_covers(state: JobState, paths: list[str] | None, quiet_for: float) -> bool:
    """Whether a (running or finished) scan walks ``paths`` and was created after the changes."""
    data = msgspec.json.decode(state.data, type=JobScanData)
    if not watched_paths.covers(data.paths, paths):
        return False
    return state.created_at >= state.now - timedelta(seconds=quiet_for)
