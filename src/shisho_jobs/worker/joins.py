"""The folder watcher's statements for joining a scan it asked for.

Before joining an active scan, the watcher reads its state (:meth:`WatcherJoins.job_state`:
status, stored data, creation time and the database's time, so no host's clock is
compared with another's); to add its changed paths to a scan that has not started, it
rewrites the scan's stored data (:meth:`WatcherJoins.update_pending_data`), in one locked
transaction that tells the live streams.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from shisho_jobs.enums import JobStatus
from shisho_jobs.outbox import EVENT_PROGRESS
from shisho_jobs.schema import utcnow
from shisho_jobs.worker.driver_rows import DriverRows


class JobState(NamedTuple):
    """A job as a watcher looks at it before joining it."""

    status: JobStatus
    data: str
    """The payload as stored (JSON text)."""
    created_at: datetime
    now: datetime
    """The database's time when it was read (PostgreSQL's clock; SQLite's host's)."""


class WatcherJoins:
    """The join statements on one database.

    Args:
        rows: the worker's statements and their plumbing.
    """

    def __init__(self, rows: DriverRows) -> None:
        self._rows = rows

    def job_state(self, job_id: int) -> JobState | None:
        """The job's status, stored data and creation time, with the database's time."""
        with self._rows.database.read_connection() as connection:
            row = connection.exec_driver_sql(self._rows.sql.job_state, (job_id,)).first()
        return None if row is None else self._job_state(tuple(row))

    def update_pending_data(self, job_id: int, update: Callable[[str], str | None]) -> bool:
        """Rewrite the stored data of a job that has not started yet.

        Args:
            job_id: the job.
            update: gets the stored data (JSON text); returns the new text, or ``None``
                to leave it as it is.

        Returns:
            ``True`` when the job was still pending (and updated, unless ``update`` said
            ``None``); ``False`` when it was claimed, finished or deleted meanwhile.
        """
        rows, sql = self._rows, self._rows.sql
        with rows.cursor(notify=True) as cursor:
            cursor.execute(sql.job_state_locked, (job_id,))
            raw = cursor.fetchone()
            if raw is None or raw[0] != JobStatus.PENDING.value:
                return False
            new_data = update(raw[1])
            if new_data is None:
                return True
            job = rows.job(cursor, sql.pending_data, (new_data, *rows.now().now, job_id))
            if job is None:
                return False
            # The job's JSON changed (its data): the live streams hear of it.
            rows.record(cursor, [job], EVENT_PROGRESS)
        return True

    def _job_state(self, raw: tuple[Any, ...]) -> JobState:
        created = self._rows.timestamp(raw[2])
        now = self._rows.timestamp(raw[3]) if len(raw) > 3 else utcnow()
        return JobState(JobStatus(raw[0]), raw[1], created, now)
