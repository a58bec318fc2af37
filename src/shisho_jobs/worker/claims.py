"""The worker's queries: claim, heartbeat, fenced progress/log/finish, and rescue.

A claim sets ``process_id`` and increments ``attempt``; every later write of that
run is *fenced*: it only matches while the job is still ``in_progress`` with the
same ``process_id`` and ``attempt``. A worker that was presumed dead and whose
job was rescued (and maybe claimed again) therefore writes nothing: its writes
match no row and raise :class:`~shisho_jobs.errors.LeaseLost`.

Each status or progress change appends its ``job_events`` outbox row in the same
transaction (``JobService.record_event``), so live streams in every process see it.
Claims and outcomes, once per job, run as plain driver SQL on the transaction's
cursor (:mod:`shisho_jobs.worker.cursor_sql`): same statements, less Python per job.
Writes that need no ORM run on :meth:`~shisho_jobs.db.Database.write_connection`
(same transaction semantics as ``write()``, without the cost of an ORM session).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import LeaseLost
from shisho_jobs.outbox import EVENT_PROGRESS, EVENT_STATUS_CHANGED, record_event
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import JobLogRow, JobRow, UTCDateTime, utcnow
from shisho_jobs.service import JobService
from shisho_jobs.worker.cursor_sql import CursorStatements, Outcome

_NO_SYNC: Final = {"synchronize_session": False, "populate_existing": True}
_PENDING_SQL: Final = "status = 'pending'"  # literal, so SQLite uses the partial queue index


@dataclass(frozen=True)
class Claim:
    """One run of one job by one worker: the key every fenced write matches."""

    job_id: int
    process_id: str
    attempt: int

    @classmethod
    def of(cls, job: Job) -> Claim:
        """The claim of a job just returned by :func:`claim_next_job`."""
        assert job.process_id is not None
        return cls(job_id=job.id, process_id=job.process_id, attempt=job.attempt)


@dataclass(frozen=True)
class LogLine:
    """A log line written in the same transaction as a status change."""

    level: LogLevel
    message: str
    data: dict[str, Any] | None = None
    plugin: str | None = None
    stack_trace: str | None = None


def _fence(claim: Claim) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        JobRow.id == claim.job_id,
        JobRow.process_id == claim.process_id,
        JobRow.attempt == claim.attempt,
        JobRow.status == JobStatus.IN_PROGRESS.value,
    )


# --- prebuilt statements ---------------------------------------------------------------------
# Claims and outcomes run once per job, on the driver's cursor (cursor_sql); the
# rarer re-queue is built once as a Core statement with bound parameters.

_table: Final = cast(sa.Table, JobRow.__table__)
_jobs: Final = _table.c


def _fenced_by_params() -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _jobs.id == sa.bindparam("claim_job_id"),
        _jobs.process_id == sa.bindparam("claim_owner"),
        _jobs.attempt == sa.bindparam("claim_attempt"),
        _jobs.status == JobStatus.IN_PROGRESS.value,
    )


_REQUEUE: Final = (
    sa.update(_table)
    .where(*_fenced_by_params())
    .values(
        status=JobStatus.PENDING.value,
        process_id=None,
        progress=0,
        started_at=None,
        heartbeat_at=None,
        lease_expires_at=None,
        updated_at=sa.bindparam("now", type_=UTCDateTime()),
    )
    .returning(*_jobs)
)


def _fence_params(claim: Claim) -> dict[str, Any]:
    return {
        "claim_job_id": claim.job_id,
        "claim_owner": claim.process_id,
        "claim_attempt": claim.attempt,
    }


def _job_of(service: JobService, row: Any) -> Job:
    # A Core row of every ``jobs`` column reads like a JobRow (attribute per column).
    return job_from_row(row, service.job_types)


# --- claiming ------------------------------------------------------------------------------


def has_pending_job(service: JobService) -> bool:
    """Whether any job waits in the queue (a read, so idle polling takes no write lock)."""
    query = sa.select(JobRow.id).where(sa.text(_PENDING_SQL)).limit(1)
    with service.database.read_connection() as connection:
        return connection.execute(query).first() is not None


@dataclass(frozen=True)
class ClaimRequest:
    """Who claims, and for how long: what :func:`claim_next_job` needs."""

    process_id: str
    lease_seconds: float


def claim_next_job(
    service: JobService,
    *,
    process_id: str,
    lease_seconds: float,
    look_first: bool = True,
) -> Job | None:
    """Atomically take the oldest pending job and mark it ``in_progress`` for ``process_id``.

    SQLite: one ``UPDATE ... WHERE id = (oldest pending) AND status = 'pending'
    RETURNING`` inside a ``BEGIN IMMEDIATE`` transaction. PostgreSQL: the oldest
    pending row is picked ``FOR UPDATE SKIP LOCKED``, so concurrent workers take
    different jobs without waiting for each other.

    Args:
        service: the jobs.
        process_id: the claiming worker.
        lease_seconds: how long the claim holds without a heartbeat.
        look_first: check with a plain read that a job is pending before taking
            the write lock (an idle worker's polls then never write).

    Returns:
        The claimed job (``attempt`` incremented), or ``None`` when the queue is empty.
    """
    if look_first and not has_pending_job(service):
        return None
    statements = _statements(service)
    with service.database.write_connection(notify=True) as connection:
        return statements.claim(connection, process_id, lease_seconds)


def _statements(service: JobService) -> CursorStatements:
    statements = _STATEMENTS.get(service)
    if statements is None:
        statements = _STATEMENTS[service] = CursorStatements(service)
    return statements


_STATEMENTS: Final[weakref.WeakKeyDictionary[JobService, CursorStatements]] = (
    weakref.WeakKeyDictionary()
)


# --- writes of a running job (fenced) ------------------------------------------------------


def heartbeat(
    service: JobService, claims: Iterable[Claim], *, lease_seconds: float
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
    expires = now + timedelta(seconds=lease_seconds)
    with service.database.write() as session:
        for claim in claims:
            statement = (
                sa.update(JobRow)
                .where(*_fence(claim))
                .values(heartbeat_at=now, lease_expires_at=expires)
                .returning(JobRow.cancel_requested)
            )
            result = session.execute(statement, execution_options=_NO_SYNC).first()
            if result is None:
                lost.add(claim)
            elif result[0]:
                cancel_requested.add(claim)
    return lost, cancel_requested


def save_progress(service: JobService, claim: Claim, percent: int, *, lease_seconds: float) -> Job:
    """Write the job's progress (and extend its lease); emits ``job.progress``.

    Raises:
        LeaseLost: the worker no longer owns the job; nothing was written.
    """
    now = utcnow()
    statement = (
        sa.update(JobRow)
        .where(*_fence(claim), JobRow.progress != percent)
        .values(
            progress=percent,
            updated_at=now,
            heartbeat_at=now,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(JobRow)
    )
    with service.database.write(notify=True) as session:
        row = session.scalars(statement, execution_options=_NO_SYNC).first()
        if row is None:
            _raise_unless_owned(session, claim)
            current = session.get(JobRow, claim.job_id)
            assert current is not None
            return job_from_row(current, service.job_types)
        job = job_from_row(row, service.job_types)
        session.flush()
        record_event(session.connection(), job, EVENT_PROGRESS)
    return job


def write_log(service: JobService, claim: Claim, line: LogLine) -> bool:
    """Append a log line to the job while this worker owns it.

    Returns:
        Whether the line was written (``False``: the job was taken over).
    """
    with service.database.write_connection() as connection:
        return _insert_log(connection, claim, line)


def finish_job(
    service: JobService,
    claim: Claim,
    *,
    status: JobStatus,
    progress: int,
    error: str | None = None,
    log: LogLine | None = None,
) -> Job:
    """Record the outcome of a run (``completed`` or ``failed``); emits ``job.status_changed``.

    Raises:
        LeaseLost: the worker no longer owns the job; nothing was written.
    """
    return finish_and_claim_next(
        service, claim, status=status, progress=progress, error=error, log=log
    )[0]


def finish_and_claim_next(
    service: JobService,
    claim: Claim,
    *,
    status: JobStatus,
    progress: int,
    error: str | None = None,
    log: LogLine | None = None,
    claim_next: ClaimRequest | None = None,
) -> tuple[Job, Job | None]:
    """Record a run's outcome and, in the same transaction, claim the next pending job.

    One commit instead of two per job while the queue is busy.

    Returns:
        The finished job, and the newly claimed one (``None``: none asked or none pending).

    Raises:
        LeaseLost: the worker no longer owns the job; nothing was written or claimed.
    """
    statements = _statements(service)
    fence = (claim.job_id, claim.process_id, claim.attempt)
    outcome = Outcome(status.value, 100 if status == JobStatus.COMPLETED else progress, error)
    next_claim = None if claim_next is None else (claim_next.process_id, claim_next.lease_seconds)
    with service.database.write_connection(notify=True) as connection:
        if log is not None:
            _insert_log(connection, claim, log)
        written = statements.finish(connection, fence, outcome, claim_next=next_claim)
        if written is None:
            raise LeaseLost()
    return written


def requeue_job(service: JobService, claim: Claim, *, log: LogLine | None = None) -> Job:
    """Hand an interrupted run back to the queue as ``pending`` (not a failure, not a crash).

    ``attempt`` stays, so the next claim increments it and this run's late writes stay fenced.

    Raises:
        LeaseLost: the worker no longer owns the job; nothing was written.
    """
    return _transition(service, claim, _REQUEUE, {"now": utcnow()}, log)


def _transition(
    service: JobService,
    claim: Claim,
    statement: sa.Update,
    params: dict[str, Any],
    log: LogLine | None,
) -> Job:
    with service.database.write_connection(notify=True) as connection:
        if log is not None:
            _insert_log(connection, claim, log)
        row = connection.execute(statement, {**params, **_fence_params(claim)}).first()
        if row is None:
            raise LeaseLost()
        job = _job_of(service, row)
        record_event(connection, job, EVENT_STATUS_CHANGED)
    return job


def _insert_log(connection: Connection, claim: Claim, line: LogLine) -> bool:
    # INSERT ... SELECT from the fenced job row: checked and written in one statement.
    data = None if line.data is None else msgspec.json.encode(line.data).decode()
    source = sa.select(
        sa.literal(utcnow(), UTCDateTime()),
        JobRow.id,
        sa.literal(line.level.value, sa.String()),
        sa.literal(line.message, sa.Text()),
        sa.literal(line.plugin, sa.String()),
        sa.literal(data, sa.Text()),
        sa.literal(line.stack_trace, sa.Text()),
    ).where(*_fence(claim))
    columns = ["created_at", "job_id", "level", "message", "plugin", "data", "stack_trace"]
    statement = sa.insert(JobLogRow).from_select(columns, source).returning(JobLogRow.id)
    return connection.execute(statement).first() is not None


def _raise_unless_owned(session: Session, claim: Claim) -> None:
    owned = session.execute(sa.select(JobRow.id).where(*_fence(claim))).first()
    if owned is None:
        raise LeaseLost()


__all__: Sequence[str] = (
    "Claim",
    "ClaimRequest",
    "LogLine",
    "claim_next_job",
    "finish_and_claim_next",
    "finish_job",
    "has_pending_job",
    "heartbeat",
    "requeue_job",
    "save_progress",
    "write_log",
)
