"""The worker's store: every read and write the worker makes, on the driver's cursor.

The worker only calls this class. Its statements are in
:mod:`shisho_jobs.worker.statements` (one style, one fence); each write transaction runs
on a pooled driver connection (:meth:`~shisho_jobs.db.Database.driver_write`: the same
``BEGIN IMMEDIATE``, commit and rollback as every other write), and values go through the
column types' own SQLAlchemy processors, so they are stored and read exactly as
everywhere else. (Being driver calls, they do not pass through SQLAlchemy's statement
events or echo log.)

Each status or progress change appends its ``job_events`` outbox row in the same
transaction (:mod:`shisho_jobs.outbox`), so live streams in every process see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple, cast

import msgspec
import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import LeaseLost
from shisho_jobs.outbox import (
    EVENT_INSERT_SQL,
    EVENT_PROGRESS,
    EVENT_STATUS_CHANGED,
    event_insert_params,
    timestamp_binder,
)
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.statements import JOB_COLUMNS, WorkerStatements

Cursor = Any
"""A DB-API cursor (sqlite3 or psycopg); typed loosely, as DB-API cursors are."""

MAX_CRASHES: Final = 3
"""A job whose worker was lost this many times fails as "worker lost" instead of re-queuing."""
WORKER_LOST_ERROR: Final = "Worker lost"


@dataclass(frozen=True)
class Claim:
    """One run of one job by one worker: the key every fenced write matches."""

    job_id: int
    process_id: str
    attempt: int

    @classmethod
    def of(cls, job: Job) -> Claim:
        """The claim of a job just returned by :meth:`WorkerStore.claim_next`."""
        assert job.process_id is not None
        return cls(job_id=job.id, process_id=job.process_id, attempt=job.attempt)

    @property
    def fence(self) -> tuple[int, str, int]:
        """The parameters of :data:`~shisho_jobs.worker.statements.FENCE`."""
        return (self.job_id, self.process_id, self.attempt)


@dataclass(frozen=True)
class ClaimRequest:
    """Who claims, and for how long."""

    process_id: str
    lease_seconds: float


@dataclass(frozen=True)
class LogLine:
    """A log line written by a running job, or with a status change."""

    level: LogLevel
    message: str
    data: dict[str, Any] | None = None
    plugin: str | None = None
    stack_trace: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The final write of a run: its status, progress and error (``None``: no error)."""

    status: JobStatus
    progress: int
    error: str | None = None


class _Expired(NamedTuple):
    id: int
    attempt: int
    crash_count: int
    process_id: str | None


_JobRecord = NamedTuple(  # type: ignore[misc]  # fields from Job, see rows.job_from_row
    "_JobRecord", [(name, Any) for name in JOB_COLUMNS]
)


class WorkerStore:
    """The worker's statements for one database.

    Args:
        database: where the jobs live.
        job_types: decodes the payloads of the jobs read.
    """

    def __init__(self, database: Database, job_types: JobTypeRegistry) -> None:
        self._database = database
        self._job_types = job_types
        dialect = database.engine.dialect
        self._sql = WorkerStatements.of(dialect.name)
        self._event_sql = EVENT_INSERT_SQL[dialect.name]
        self._dialect = dialect
        self._stamp: Callable[[datetime], Any] = timestamp_binder(dialect)
        columns = cast(sa.Table, JobRow.__table__).columns
        self._readers = [
            (index, reader)
            for index, name in enumerate(JOB_COLUMNS)
            if (reader := columns[name].type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        self._read_timestamp = (
            columns["created_at"].type.dialect_impl(dialect).result_processor(dialect, None)
        )

    @property
    def statements(self) -> WorkerStatements:
        """The SQL this store runs (for query-plan checks)."""
        return self._sql

    # --- claiming ---------------------------------------------------------------------------

    def claim_next(self, request: ClaimRequest) -> Job | None:
        """Atomically take the oldest pending job and mark it ``in_progress`` for the claimer.

        Looks with a plain read first, so an idle worker's polls never take the write lock.

        Returns:
            The claimed job (``attempt`` incremented), or ``None`` when the queue is empty.
        """
        with self._database.read_connection() as connection:
            if connection.exec_driver_sql(self._sql.has_pending).first() is None:
                return None
        with self._cursor(notify=True) as cursor:
            job = self._claim(cursor, request)
            if job is not None:
                self._record(cursor, [job], EVENT_STATUS_CHANGED)
            return job

    def _claim(self, cursor: Cursor, request: ClaimRequest) -> Job | None:
        now = utcnow()
        stamp = self._stamp(now)
        expires = self._stamp(now + timedelta(seconds=request.lease_seconds))
        params = (request.process_id, stamp, stamp, expires, stamp)
        return self._job(cursor, self._sql.claim, params)

    # --- writes of a running job (fenced) ---------------------------------------------------

    def heartbeat(
        self, claims: Iterable[Claim], *, lease_seconds: float
    ) -> tuple[set[Claim], set[Claim]]:
        """Extend the lease of each claimed job.

        Returns:
            ``(lost, cancel_requested)``: claims whose job this worker no longer owns,
            and claims whose job someone asked to cancel.
        """
        claims = list(claims)
        lost: set[Claim] = set()
        cancel_requested: set[Claim] = set()
        if not claims:
            return lost, cancel_requested
        now = utcnow()
        stamp, expires = self._stamp(now), self._stamp(now + timedelta(seconds=lease_seconds))
        with self._cursor() as cursor:
            for claim in claims:
                cursor.execute(self._sql.heartbeat, (stamp, expires, *claim.fence))
                row = cursor.fetchone()
                if row is None:
                    lost.add(claim)
                elif row[0]:
                    cancel_requested.add(claim)
        return lost, cancel_requested

    def save_progress(self, claim: Claim, percent: int, *, lease_seconds: float) -> Job:
        """Write the job's progress (and extend its lease); emits ``job.progress``.

        Returns:
            The job as it is now (unchanged when it already had that progress).

        Raises:
            LeaseLost: the worker no longer owns the job; nothing was written.
        """
        now = utcnow()
        stamp, expires = self._stamp(now), self._stamp(now + timedelta(seconds=lease_seconds))
        params = (percent, stamp, stamp, expires, *claim.fence, percent)
        with self._cursor(notify=True) as cursor:
            job = self._job(cursor, self._sql.progress, params)
            if job is None:
                current = self._job(cursor, self._sql.owned, claim.fence)
                if current is None:
                    raise LeaseLost()
                return current
            self._record(cursor, [job], EVENT_PROGRESS)
        return job

    def write_log(self, claim: Claim, line: LogLine) -> bool:
        """Append a log line to the job while this worker owns it.

        Returns:
            Whether the line was written (``False``: the job was taken over).
        """
        with self._cursor() as cursor:
            return self._insert_log(cursor, claim, line)

    def finish(
        self,
        claim: Claim,
        outcome: Outcome,
        *,
        log: LogLine | None = None,
        claim_next: ClaimRequest | None = None,
    ) -> tuple[Job, Job | None]:
        """Record a run's outcome and, in the same transaction, claim the next pending job.

        One commit instead of two per job while the queue is busy. A completed run's
        progress is written as 100.

        Returns:
            The finished job, and the newly claimed one (``None``: none asked or none pending).

        Raises:
            LeaseLost: the worker no longer owns the job; nothing was written or claimed.
        """
        progress = 100 if outcome.status == JobStatus.COMPLETED else outcome.progress
        stamp = self._stamp(utcnow())
        params = (outcome.status.value, progress, outcome.error, stamp, stamp, *claim.fence)
        with self._cursor(notify=True) as cursor:
            if log is not None:
                self._insert_log(cursor, claim, log)
            finished = self._job(cursor, self._sql.finish, params)
            if finished is None:
                raise LeaseLost()
            claimed = None if claim_next is None else self._claim(cursor, claim_next)
            # Both outbox rows in one driver call, finished job first (ids in that order).
            self._record(
                cursor, [finished] if claimed is None else [finished, claimed], EVENT_STATUS_CHANGED
            )
            return finished, claimed

    def requeue(self, claim: Claim, *, log: LogLine | None = None) -> Job:
        """Hand an interrupted run back to the queue as ``pending`` (not a failure, not a crash).

        ``attempt`` stays, so the next claim increments it and this run's late writes stay
        fenced.

        Raises:
            LeaseLost: the worker no longer owns the job; nothing was written.
        """
        with self._cursor(notify=True) as cursor:
            if log is not None:
                self._insert_log(cursor, claim, log)
            job = self._job(cursor, self._sql.requeue, (self._stamp(utcnow()), *claim.fence))
            if job is None:
                raise LeaseLost()
            self._record(cursor, [job], EVENT_STATUS_CHANGED)
        return job

    # --- housekeeping -----------------------------------------------------------------------

    def rescue_expired(self, *, lease_seconds: float, max_crashes: int = MAX_CRASHES) -> list[Job]:
        """Take back in-progress jobs whose worker stopped renewing its lease.

        Each is re-queued with ``crash_count`` incremented, or fails as "worker lost" once
        it reached ``max_crashes``. Both leave a log line on the job. (``attempt`` counts
        claims: the rescued job's next claim increments it like any other.)

        Returns:
            The rescued jobs in their new state.
        """
        now = utcnow()
        expiry = (self._stamp(now), self._stamp(now - timedelta(seconds=lease_seconds)))
        with self._database.read_connection() as connection:
            if connection.exec_driver_sql(self._sql.any_expired, expiry).first() is None:
                return []
        rescued: list[Job] = []
        with self._cursor(notify=True) as cursor:
            cursor.execute(self._sql.expired, expiry)
            for row in [_Expired(*values) for values in cursor.fetchall()]:
                rescued.append(self._rescue(cursor, row, max_crashes))
            self._record(cursor, rescued, EVENT_STATUS_CHANGED)
        return rescued

    def _rescue(self, cursor: Cursor, row: _Expired, max_crashes: int) -> Job:
        crashes = row.crash_count + 1
        owner = row.process_id or "unknown worker"
        stamp = self._stamp(utcnow())
        params: tuple[Any, ...]
        if crashes >= max_crashes:
            level, message = (
                LogLevel.ERROR,
                f"{WORKER_LOST_ERROR}: the worker running this job ({owner}) stopped answering "
                f"and this happened {crashes} times; giving up.",
            )
            error = f"{WORKER_LOST_ERROR} ({crashes} times)"
            sql, params = self._sql.rescue_fail, (error, stamp, crashes, stamp, row.id, row.attempt)
        else:
            level, message = (
                LogLevel.WARN,
                f"The worker running this job ({owner}) stopped answering; "
                f"re-queued (crash {crashes} of {max_crashes}).",
            )
            sql, params = self._sql.rescue_requeue, (crashes, stamp, row.id, row.attempt)
        cursor.execute(self._sql.log, (stamp, row.id, level.value, message, None, None, None))
        job = self._job(cursor, sql, params)
        assert job is not None  # the row is locked (or the database is) since it was read
        return job

    def last_global_job_created_at(self, job_type: str) -> datetime | None:
        """When the newest global job of ``job_type`` was created, or ``None``."""
        with self._database.read_connection() as connection:
            row = connection.exec_driver_sql(self._sql.last_global_created, (job_type,)).first()
        if row is None:
            return None
        value = row[0] if self._read_timestamp is None else self._read_timestamp(row[0])
        return cast(datetime, value)

    # --- plumbing ---------------------------------------------------------------------------

    def _cursor(self, *, notify: bool = False) -> AbstractContextManager[Cursor]:
        """A driver cursor inside one write transaction (commits when the block succeeds)."""
        return self._database.driver_write(notify=notify)

    def _job(self, cursor: Cursor, sql: str, params: Sequence[Any]) -> Job | None:
        cursor.execute(sql, params)
        raw = cursor.fetchone()
        if raw is None:
            return None
        values = list(raw)
        for index, reader in self._readers:
            values[index] = reader(values[index])
        return job_from_row(_JobRecord(*values), self._job_types)

    def _insert_log(self, cursor: Cursor, claim: Claim, line: LogLine) -> bool:
        data = None if line.data is None else msgspec.json.encode(line.data).decode()
        params = (
            self._stamp(utcnow()),
            line.level.value,
            line.message,
            line.plugin,
            data,
            line.stack_trace,
            *claim.fence,
        )
        cursor.execute(self._sql.fenced_log, params)
        return cursor.fetchone() is not None

    def _record(self, cursor: Cursor, jobs: list[Job], event: str) -> None:
        # psycopg sends the statements of one executemany in a single round trip
        # (pipeline mode); each still takes the events lock and queues its NOTIFY.
        if jobs:
            params = [event_insert_params(self._dialect, job, event) for job in jobs]
            cursor.executemany(self._event_sql, params)
