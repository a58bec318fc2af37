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
from datetime import datetime, timedelta
from typing import Protocol

import msgspec
import sqlalchemy as sa

from shisho_jobs.enums import JobStatus, JobType
from shisho_jobs.payloads import JobScanData
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.service import EVENT_PROGRESS, JobService
from shisho_jobs.watch import paths as watched_paths

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


class ServiceScanStarter:
    """:class:`ScanStarter` on a :class:`~shisho_jobs.service.JobService`."""

    def __init__(self, service: JobService) -> None:
        self.service = service

    def request_scan(
        self, library_id: int, paths: list[str] | None, *, quiet_for: float
    ) -> ScanAnswer:
        """See :meth:`ScanStarter.request_scan`."""
        job_id = 0
        for _attempt in range(MAX_ATTEMPTS):
            job, created = self.service.start_or_join(
                JobType.SCAN.value, JobScanData(paths=paths), library_id=library_id
            )
            job_id = job.id
            if created:
                return ScanAnswer(job.id, covered=True)
            if job.status == JobStatus.PENDING and self._merge_into_pending(job.id, paths):
                return ScanAnswer(job.id, covered=True)
            if job.status == JobStatus.IN_PROGRESS:
                return ScanAnswer(job.id, covered=self._running_covers(job.id, paths, quiet_for))
            # It started or ended between the two statements: look again.
        return ScanAnswer(job_id, covered=False)

    def is_active(self, job_id: int) -> bool:
        """See :meth:`ScanStarter.is_active`."""
        with self.service.database.read() as session:
            status = session.execute(
                sa.select(JobRow.status).where(JobRow.id == job_id)
            ).scalar_one_or_none()
        return status in (JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)

    def _merge_into_pending(self, job_id: int, paths: list[str] | None) -> bool:
        """Add ``paths`` to a still-pending scan; ``False`` once it has started."""
        with self.service.database.write(notify=True) as session:
            row = session.get(JobRow, job_id, with_for_update=True)
            if row is None or row.status != JobStatus.PENDING.value:
                return False
            data = msgspec.json.decode(row.data, type=JobScanData)
            if watched_paths.covers(data.paths, paths):
                return True
            merged = JobScanData(force=data.force, paths=watched_paths.merge(data.paths, paths))
            row.data = self.service.job_types.encode_payload(merged)
            row.updated_at = utcnow()
            session.flush()
            # The job's JSON changed (its data): the event streams hear of it.
            self.service.record_event(session, self.service.to_job(row), EVENT_PROGRESS)
        return True

    def _running_covers(self, job_id: int, paths: list[str] | None, quiet_for: float) -> bool:
        with self.service.database.read() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.status != JobStatus.IN_PROGRESS.value:
                return False
            data = msgspec.json.decode(row.data, type=JobScanData)
            if not watched_paths.covers(data.paths, paths):
                return False
            changed_before = _database_now(session) - timedelta(seconds=quiet_for)
            return bool(row.created_at >= changed_before)


def _database_now(session: sa.orm.Session) -> datetime:
    # PostgreSQL may serve several hosts: its clock is the one every host shares.
    # SQLite lives on one host, whose clock is the database's.
    if session.get_bind().dialect.name == "postgresql":
        now: datetime = session.execute(sa.select(sa.func.now())).scalar_one()
        return now
    return utcnow()
