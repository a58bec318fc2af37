"""The worker's per-job statements, run on the database driver's own cursor.

Claiming a job and writing its outcome happen once per job. Through
SQLAlchemy each statement costs more Python time than SQLite takes to run it,
so these few statements are plain driver SQL, run on the cursor of the
SQLAlchemy connection that holds the write transaction (same transaction, same
commit). Parameters and results go through the column types' own SQLAlchemy
processors, so values are stored and read exactly as everywhere else. (Being
driver calls, they do not pass through SQLAlchemy's statement events or echo log.)

The statements are the ones :mod:`shisho_jobs.worker.claims` documents:

- claim: ``UPDATE ... WHERE id = (oldest pending) AND status = 'pending'
  RETURNING``, the oldest pending row picked ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL;
- finish: ``UPDATE ... RETURNING`` fenced by ``(id, process_id, attempt,
  status = 'in_progress')``;
- the ``job_events`` outbox row: :data:`shisho_jobs.service.EVENT_INSERT_SQL`,
  the very statement :meth:`~shisho_jobs.service.JobService.record_event_on` runs.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus
from shisho_jobs.outbox import EVENT_INSERT_SQL, EVENT_STATUS_CHANGED, event_insert_params
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import JobRow, UTCDateTime, utcnow
from shisho_jobs.service import JobService

_table: Final = cast(sa.Table, JobRow.__table__)
_COLUMN_NAMES: Final = tuple(column.name for column in _table.columns)
_RETURNING: Final = ", ".join(_COLUMN_NAMES)

JobRecord = namedtuple("JobRecord", _COLUMN_NAMES)  # type: ignore[misc]
"""A ``jobs`` row read like a :class:`~shisho_jobs.schema.JobRow` (attribute per column)."""

_IN_PROGRESS: Final = JobStatus.IN_PROGRESS.value
_PENDING_QUEUE_INDEX: Final = "ix_jobs_pending_queue"
# The oldest pending job comes from the partial index of pending jobs, in its
# order. SQLite is told so: without statistics its planner prefers the
# (status, finished_at) index and sorts every pending row for each claim,
# which makes draining a queue of n jobs cost n² (INDEXED BY fails loudly
# instead of silently scanning if the index is ever missing).
# SQLite: one writer at a time, and the outer status guard keeps the claim
# atomic. PostgreSQL: the row is locked FOR UPDATE SKIP LOCKED and its status
# re-checked on the locked version, so the outer update matches on the key
# alone (with a status guard, a table without statistics yet made the planner
# walk every pending row by the status index to find that one id).
_CLAIM_SQL: Final = (
    "UPDATE jobs SET status = 'in_progress', process_id = ?, started_at = ?, heartbeat_at = ?,"
    " lease_expires_at = ?, attempt = attempt + 1, progress = 0, finished_at = NULL,"
    " error = NULL, updated_at = ?"
    " WHERE id = (SELECT id FROM jobs{indexed_by} WHERE status = 'pending'"
    " ORDER BY created_at, id LIMIT 1{lock}){guard}"
    f" RETURNING {_RETURNING}"
)
_FINISH_SQL: Final = (
    "UPDATE jobs SET status = ?, progress = ?, error = ?, finished_at = ?,"
    " lease_expires_at = NULL, updated_at = ?"
    f" WHERE id = ? AND process_id = ? AND attempt = ? AND status = '{_IN_PROGRESS}'"
    f" RETURNING {_RETURNING}"
)


def _driver_sql(sql: str, dialect: str) -> str:
    # Written with qmark placeholders (sqlite3); psycopg takes %s.
    return sql.replace("?", "%s") if dialect == "postgresql" else sql


class CursorStatements:
    """Claim, finish and outbox statements of one database, for the driver's cursor.

    Args:
        service: the jobs (its database decides the SQL dialect).
    """

    def __init__(self, service: JobService) -> None:
        self._service = service
        name = service.database.dialect
        self._dialect = service.database.engine.dialect
        if name == "postgresql":
            claim_sql = _CLAIM_SQL.format(indexed_by="", lock=" FOR UPDATE SKIP LOCKED", guard="")
        else:
            claim_sql = _CLAIM_SQL.format(
                indexed_by=f" INDEXED BY {_PENDING_QUEUE_INDEX}",
                lock="",
                guard=" AND status = 'pending'",
            )
        self._claim_sql = _driver_sql(claim_sql, name)
        self._finish_sql = _driver_sql(_FINISH_SQL, name)
        self._event_sql = EVENT_INSERT_SQL[name]
        timestamp = UTCDateTime().dialect_impl(self._dialect).bind_processor(self._dialect)
        self._timestamp: Callable[[datetime], Any] = timestamp or (lambda value: value)
        self._readers = [
            (index, reader)
            for index, column in enumerate(_table.columns)
            if (reader := _reader(column.type, self._dialect)) is not None
        ]

    @property
    def claim_sql(self) -> str:
        """The claim statement in the driver's paramstyle (for query-plan checks)."""
        return self._claim_sql

    def claim(self, connection: Connection, process_id: str, lease_seconds: float) -> Job | None:
        """Claim the oldest pending job in ``connection``'s transaction and record its event.

        Returns:
            The claimed job, or ``None`` when no job is pending.
        """
        cursor = connection.connection.cursor()
        try:
            job = self._claim(cursor, process_id, lease_seconds)
            if job is not None:
                self._record(cursor, [job])
            return job
        finally:
            cursor.close()

    def finish(
        self,
        connection: Connection,
        fence: tuple[int, str, int],
        outcome: Outcome,
        *,
        claim_next: tuple[str, float] | None = None,
    ) -> tuple[Job, Job | None] | None:
        """Write a run's outcome fenced by ``(job_id, process_id, attempt)``; record its event.

        Args:
            connection: a connection inside the write transaction.
            fence: the run's ``(job_id, process_id, attempt)``.
            outcome: what to write.
            claim_next: ``(process_id, lease_seconds)`` to claim the next pending
                job in the same transaction.

        Returns:
            The finished job and the one claimed next (if asked and one was
            pending), or ``None`` when the fence matched no row (nothing claimed).
        """
        cursor = connection.connection.cursor()
        try:
            stamp = self._timestamp(utcnow())
            params = (outcome.status, outcome.progress, outcome.error, stamp, stamp, *fence)
            finished = self._update(cursor, self._finish_sql, params)
            if finished is None:
                return None
            claimed = None if claim_next is None else self._claim(cursor, *claim_next)
            # Both outbox rows in one driver call, finished job first (ids in that order).
            self._record(cursor, [finished] if claimed is None else [finished, claimed])
            return finished, claimed
        finally:
            cursor.close()

    def _claim(self, cursor: Any, process_id: str, lease_seconds: float) -> Job | None:
        now = utcnow()
        stamp = self._timestamp(now)
        expires = self._timestamp(now + timedelta(seconds=lease_seconds))
        return self._update(cursor, self._claim_sql, (process_id, stamp, stamp, expires, stamp))

    def _update(self, cursor: Any, sql: str, params: Sequence[Any]) -> Job | None:
        cursor.execute(sql, params)
        raw = cursor.fetchone()
        if raw is None:
            return None
        values = list(raw)
        for index, reader in self._readers:
            values[index] = reader(values[index])
        # A JobRecord reads like a JobRow: an attribute per column.
        return job_from_row(JobRecord(*values), self._service.job_types)

    def _record(self, cursor: Any, jobs: list[Job]) -> None:
        # psycopg sends the statements of one executemany in a single round trip
        # (pipeline mode); each still takes the events lock and queues its NOTIFY.
        events = [event_insert_params(self._dialect, job, EVENT_STATUS_CHANGED) for job in jobs]
        cursor.executemany(self._event_sql, events)


@dataclass(frozen=True)
class Outcome:
    """The final write of a run: its status, progress and error (``None``: no error)."""

    status: str
    progress: int
    error: str | None


__all__: Sequence[str] = ("CursorStatements", "JobRecord", "Outcome")


def _reader(column_type: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Any:
    # The dialect's own variant of the type (SQLite: DATETIME read from text), as SQLAlchemy does.
    return column_type.dialect_impl(dialect).result_processor(dialect, None)
