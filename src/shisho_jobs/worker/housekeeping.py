"""Housekeeping queries: rescuing jobs of lost workers, pruning the outbox, scan schedule.

A job whose worker stopped renewing its lease is taken back: re-queued with
``crash_count`` incremented (a crash is not a handler error, so a restart never
uses up the job's attempts), or failed as "worker lost" after
:data:`MAX_CRASHES` losses. Each step leaves a log line on the job and a
``job.status_changed`` event in the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.outbox import EVENT_STATUS_CHANGED, record_event
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import JobEventRow, JobLogRow, JobRow, utcnow
from shisho_jobs.service import JobService

MAX_CRASHES: Final = 3
"""A job whose worker was lost this many times fails as "worker lost" instead of re-queuing."""

WORKER_LOST_ERROR: Final = "Worker lost"

_NO_SYNC: Final = {"synchronize_session": False, "populate_existing": True}


def _expired(now: datetime, lease_seconds: float) -> sa.ColumnElement[bool]:
    # A job set in_progress without a lease (by hand, or by an old version) has no
    # owner either: give it one lease length since its last update.
    return sa.and_(
        JobRow.status == JobStatus.IN_PROGRESS.value,
        sa.or_(
            JobRow.lease_expires_at < now,
            sa.and_(
                JobRow.lease_expires_at.is_(None),
                JobRow.updated_at < now - timedelta(seconds=lease_seconds),
            ),
        ),
    )


def rescue_expired_jobs(
    service: JobService, *, lease_seconds: float, max_crashes: int = MAX_CRASHES
) -> list[Job]:
    """Take back in-progress jobs whose worker stopped renewing its lease.

    Each is re-queued with ``crash_count`` incremented (a crash is not a handler
    error, so it uses up no attempt of the job's own), or fails as "worker lost"
    once it reached ``max_crashes``. Both leave a log line on the job.

    Returns:
        The rescued jobs in their new state.
    """
    now = utcnow()
    with service.database.read() as session:
        if (
            session.execute(sa.select(JobRow.id).where(_expired(now, lease_seconds))).first()
            is None
        ):
            return []
    rescued: list[Job] = []
    with service.database.write(notify=True) as session:
        query = sa.select(JobRow).where(_expired(now, lease_seconds)).order_by(JobRow.id)
        if service.database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for row in list(session.scalars(query)):
            rescued.append(_rescue_one(service, session, row, max_crashes=max_crashes))
    return rescued


def _rescue_one(service: JobService, session: Session, row: JobRow, *, max_crashes: int) -> Job:
    crashes = row.crash_count + 1
    owner = row.process_id or "unknown worker"
    now = utcnow()
    if crashes >= max_crashes:
        level, message = (
            LogLevel.ERROR,
            f"{WORKER_LOST_ERROR}: the worker running this job ({owner}) stopped answering "
            f"and this happened {crashes} times; giving up.",
        )
        values: dict[str, Any] = {
            "status": JobStatus.FAILED.value,
            "error": f"{WORKER_LOST_ERROR} ({crashes} times)",
            "finished_at": now,
        }
    else:
        level, message = (
            LogLevel.WARN,
            f"The worker running this job ({owner}) stopped answering; "
            f"re-queued (crash {crashes} of {max_crashes}).",
        )
        values = {
            "status": JobStatus.PENDING.value,
            "process_id": None,
            "progress": 0,
            "started_at": None,
        }
    values.update(crash_count=crashes, lease_expires_at=None, heartbeat_at=None, updated_at=now)
    session.add(JobLogRow(created_at=now, job_id=row.id, level=level.value, message=message))
    statement = (
        sa.update(JobRow)
        .where(
            JobRow.id == row.id,
            JobRow.attempt == row.attempt,
            JobRow.status == JobStatus.IN_PROGRESS.value,
        )
        .values(**values)
        .returning(JobRow)
    )
    updated = session.scalars(statement, execution_options=_NO_SYNC).one()
    job = job_from_row(updated, service.job_types)
    session.flush()
    record_event(session.connection(), job, EVENT_STATUS_CHANGED)
    return job


def prune_events(service: JobService, *, older_than_seconds: float) -> int:
    """Delete ``job_events`` outbox rows older than this (live streams only need recent ones).

    Returns:
        How many rows were deleted.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with service.database.write() as session:
        result = session.execute(sa.delete(JobEventRow).where(JobEventRow.created_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


def last_global_job_created_at(service: JobService, job_type: str) -> datetime | None:
    """When the newest global job of ``job_type`` was created, or ``None``."""
    query = (
        sa.select(JobRow.created_at)
        .where(JobRow.type == job_type, JobRow.library_id.is_(None))
        .order_by(JobRow.created_at.desc())
        .limit(1)
    )
    with service.database.read() as session:
        return session.execute(query).scalar()
