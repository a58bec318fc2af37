"""The worker's store: every read and write the worker makes, on the driver's cursor.

The worker only calls this class. Its statements are in
:mod:`shisho_jobs.worker.statements` (one style, one fence); each write transaction runs
on a pooled driver connection (:meth:`~shisho_jobs.db.Database.driver_write`: the same
``BEGIN IMMEDIATE``, commit and rollback as every other write), and values go through the
column types' own SQLAlchemy processors, so they are stored and read exactly as
everywhere else. (Being driver calls, they do not pass through SQLAlchemy's statement
events or echo log.) That plumbing is :mod:`shisho_jobs.worker.driver_rows`; the folder
watcher's join statements are :mod:`shisho_jobs.worker.joins`.

Each status or progress change appends its ``job_events`` outbox row in the same
transaction (:mod:`shisho_jobs.outbox`), so live streams in every process see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import msgspec
from sqlalchemy.engine import Connection

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import LeaseLost
from shisho_jobs.outbox import EVENT_PROGRESS, EVENT_STATUS_CHANGED
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.retries import runs_in_chain
from shisho_jobs.worker.driver_rows import Cursor, DriverRows
from shisho_jobs.worker.joins import JobState, WatcherJoins
from shisho_jobs.worker.statements import WorkerStatements

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
    library_id: int | None = None
    """The library the line is about (see :mod:`shisho_jobs.visibility`)."""


@dataclass(frozen=True)
class Outcome:
    """The final write of a run: its status, progress, error (``None``: no error), result
    (JSON text) and, for a failure to retry automatically, the seconds until the retry."""

    status: JobStatus
    progress: int
    error: str | None = None
    result: str | None = None
    retry_in: float | None = None


class _Expired(NamedTuple):
    id: int
    attempt: int
    crash_count: int
    process_id: str | None
    cancel_requested: bool


class WorkerStore:
    """The worker's statements for one database.

    Args:
        database: where the jobs live.
        job_types: decodes the payloads of the jobs read; the worker claims only these types.
    """

    def __init__(self, database: Database, job_types: JobTypeRegistry) -> None:
        self._database = database
        self._rows = DriverRows(database, job_types)
        self._joins = WatcherJoins(self._rows)
        self._sql = self._rows.sql
        self._postgres = self._rows.postgres

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
        with self._rows.cursor(notify=True) as cursor:
            job = self._claim(cursor, request)
            if job is not None:
                self._rows.record(cursor, [job], EVENT_STATUS_CHANGED)
            return job

    def _claim(self, cursor: Cursor, request: ClaimRequest) -> Job | None:
        time = self._rows.now()
        expires = time.shifted(request.lease_seconds)
        params = (request.process_id, *time.now, *time.now, *expires, *time.now, *time.now)
        return self._rows.job(cursor, self._sql.claim, params)

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
        time = self._rows.now()
        renewed = (*time.now, *time.shifted(lease_seconds))
        with self._rows.cursor() as cursor:
            for claim in claims:
                cursor.execute(self._sql.heartbeat, (*renewed, *claim.fence))
                row = cursor.fetchone()
                if row is None:
                    lost.add(claim)
                elif row[0]:
                    cancel_requested.add(claim)
        return lost, cancel_requested

    def cancel_requested(self, claims: Iterable[Claim]) -> set[Claim]:
        """The claims whose job someone asked to cancel (a plain read, cheap to repeat)."""
        by_id = {claim.job_id: claim for claim in claims}
        if not by_id:
            return set()
        placeholder = "%s" if self._postgres else "?"
        sql = self._sql.cancel_requested.format(ids=", ".join([placeholder] * len(by_id)))
        with self._database.read_connection() as connection:
            rows = connection.exec_driver_sql(sql, tuple(by_id)).all()
        return {by_id[row[0]] for row in rows}

    def save_progress(self, claim: Claim, percent: int, *, lease_seconds: float) -> Job:
        """Write the job's progress (and extend its lease): the work moved, so a stall
        ends; emits ``job.progress``.

        Raises:
            LeaseLost: the worker no longer owns the job; nothing was written.
        """
        time = self._rows.now()
        expires = time.shifted(lease_seconds)
        params = (percent, *time.now, *time.now, *expires, *time.now, *claim.fence)
        with self._rows.cursor(notify=True) as cursor:
            job = self._rows.job(cursor, self._sql.progress, params)
            if job is None:
                raise LeaseLost()
            self._rows.record(cursor, [job], EVENT_PROGRESS)
        return job

    def write_log(self, claim: Claim, line: LogLine) -> bool:
        """Append a log line to the job while this worker owns it.

        Returns:
            Whether the line was written (``False``: the job was taken over).
        """
        with self._rows.cursor() as cursor:
            return self._insert_log(cursor, claim, line)

    def hold_claim(self, connection: Connection, claim: Claim) -> bool:
        """In the caller's write transaction: whether ``claim`` still owns its job.

        On PostgreSQL the job's row is then share-locked until that transaction ends, so
        rescue (which skips locked rows) cannot take the job before the caller commits;
        SQLite's write transaction holds the database's lock already.
        """
        row = connection.exec_driver_sql(self._sql.hold, claim.fence).first()
        return row is not None

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
        time = self._rows.now()
        retry = (None,) if outcome.retry_in is None else time.shifted(outcome.retry_in)
        params = (
            outcome.status.value,
            progress,
            outcome.error,
            outcome.result,
            *retry,
            *time.now,
            *time.now,
            *claim.fence,
        )
        with self._rows.cursor(notify=True) as cursor:
            if log is not None:
                self._insert_log(cursor, claim, log)
            finished = self._rows.job(cursor, self._sql.finish, params)
            if finished is None:
                raise LeaseLost()
            claimed = None if claim_next is None else self._claim(cursor, claim_next)
            # Both outbox rows in one driver call, finished job first (ids in that order).
            self._rows.record(
                cursor, [finished] if claimed is None else [finished, claimed], EVENT_STATUS_CHANGED
            )
            return finished, claimed

    def requeue(
        self,
        claim: Claim,
        *,
        log: LogLine | None = None,
        cancelled_log: LogLine | None = None,
    ) -> Job:
        """Hand an interrupted run back to the queue as ``pending`` (not a failure, not a crash),
        or end it ``cancelled`` if a cancel was asked for (it must not run again).

        ``attempt`` stays, so the next claim increments it and this run's late writes stay
        fenced.

        Args:
            claim: the run.
            log: the line to write when the job goes back to the queue.
            cancelled_log: the line to write when it ends cancelled instead.

        Raises:
            LeaseLost: the worker no longer owns the job; nothing was written.
        """
        now = self._rows.now().now
        with self._rows.cursor(notify=True) as cursor:
            cursor.execute(self._sql.owned_cancel_requested, claim.fence)
            owned = cursor.fetchone()
            if owned is None:
                raise LeaseLost()
            line = cancelled_log if owned[0] else log
            if line is not None:
                self._insert_log(cursor, claim, line)
            job = self._rows.job(cursor, self._sql.requeue, (*now, *now, *claim.fence))
            if job is None:
                raise LeaseLost()
            self._rows.record(cursor, [job], EVENT_STATUS_CHANGED)
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
        time = self._rows.now()
        expiry = (*time.now, *time.shifted(-lease_seconds))
        with self._database.read_connection() as connection:
            if connection.exec_driver_sql(self._sql.any_expired, expiry).first() is None:
                return []
        rescued: list[Job] = []
        with self._rows.cursor(notify=True) as cursor:
            cursor.execute(self._sql.expired, expiry)
            for row in [_Expired(*values) for values in cursor.fetchall()]:
                rescued.append(self._rescue(cursor, row, max_crashes))
            self._rows.record(cursor, rescued, EVENT_STATUS_CHANGED)
        return rescued

    def _rescue(self, cursor: Cursor, row: _Expired, max_crashes: int) -> Job:
        crashes = row.crash_count + 1
        owner = row.process_id or "unknown worker"
        now = self._rows.now().now
        params: tuple[Any, ...]
        if row.cancel_requested:
            level, message = (
                LogLevel.INFO,
                f"The worker running this job ({owner}) stopped answering after a cancel was "
                "asked for; the job is cancelled, not run again.",
            )
            sql, params = self._sql.rescue_cancel, (*now, crashes, *now, row.id, row.attempt)
        elif crashes >= max_crashes:
            level, message = (
                LogLevel.ERROR,
                f"{WORKER_LOST_ERROR}: the worker running this job stopped answering "
                f"and this happened {crashes} times; giving up.",
            )
            error = f"{WORKER_LOST_ERROR} ({crashes} times)"
            sql, params = self._sql.rescue_fail, (error, *now, crashes, *now, row.id, row.attempt)
        else:
            level, message = (
                LogLevel.WARN,
                f"The worker running this job stopped answering; "
                f"re-queued (crash {crashes} of {max_crashes}).",
            )
            sql, params = self._sql.rescue_requeue, (crashes, *now, row.id, row.attempt)
        # The worker's name (its host's) goes in data, which readers of only some libraries
        # do not receive (shisho_jobs.visibility.HIDDEN_LOG_DATA_KEYS).
        data = msgspec.json.encode({"process_id": owner}).decode()
        cursor.execute(self._sql.log, (*now, row.id, level.value, message, None, data, None, None))
        job = self._rows.job(cursor, sql, params)
        assert job is not None  # the row is locked (or the database is) since it was read
        return job

    # --- joining scans (the folder watcher) --------------------------------------------------

    def job_state(self, job_id: int) -> JobState | None:
        """The job's status, stored data and creation time, with the database's time."""
        return self._joins.job_state(job_id)

    def update_pending_data(self, job_id: int, update: Callable[[str], str | None]) -> bool:
        """Rewrite the stored data of a job that has not started yet.

        See :meth:`~shisho_jobs.worker.joins.WatcherJoins.update_pending_data`.
        """
        return self._joins.update_pending_data(job_id, update)

    def runs_in_chain(self, job_id: int, *, limit: int) -> int:
        """How many runs the job's chain of retries has, counting up to ``limit``."""
        with self._database.read_connection() as connection:
            return runs_in_chain(connection, job_id, limit=limit)

    # --- plumbing ---------------------------------------------------------------------------

    def _insert_log(self, cursor: Cursor, claim: Claim, line: LogLine) -> bool:
        data = None if line.data is None else msgspec.json.encode(line.data).decode()
        params = (
            *self._rows.now().now,
            line.level.value,
            line.message,
            line.plugin,
            data,
            line.stack_trace,
            line.library_id,
            *claim.fence,
        )
        cursor.execute(self._sql.fenced_log, params)
        return cursor.fetchone() is not None
