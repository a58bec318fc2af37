"""The lock that makes "at most one active job per scope" atomic across hosts.

An exclusive job type (``scan``) allows one active job per scope: an active global job
blocks every library's, any active job blocks a global one, different libraries never
block each other. The check and the insert must be one atomic step across threads,
processes and hosts, so they run under :func:`lock_scope` in one write transaction.
Under the same lock, :func:`recent_job` finds a job created too recently for a schedule to
start another (``unless_created_within``).
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shisho_jobs.clock import database_time_from_now
from shisho_jobs.enums import JobTrigger
from shisho_jobs.schema import JobRow


def scope_lock_key(job_type: str) -> int:
    """A signed 32-bit advisory lock namespace for one job type."""
    return zlib.crc32(f"shisho_jobs:scope:{job_type}".encode()) - 2**31


def lock_scope(session: Session, job_type: str, library_id: int | None) -> None:
    """Take the scope's lock for the rest of ``session``'s write transaction.

    SQLite: the write transaction already holds the database's write lock
    (``BEGIN IMMEDIATE``), so nothing more is needed. PostgreSQL: a global job takes its
    type's lock exclusively; a library job takes it shared plus its library's lock
    exclusively, so libraries never wait for each other. Locks are transaction-scoped:
    the insert commits before anyone else looks.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = scope_lock_key(job_type)
    if library_id is None:
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(key, 0)))
    else:
        session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(key, 0)))
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(key, library_id)))


def recent_job(
    session: Session, job_type: str, library_id: int | None, trigger: JobTrigger, seconds: float
) -> JobRow | None:
    """The newest job of this type and trigger created within ``seconds`` for the scope."""
    # One clock for every host: the database's (see shisho_jobs.clock).
    cutoff = database_time_from_now(session.get_bind().dialect.name, -seconds)
    scope = (
        JobRow.library_id.is_(None)
        if library_id is None
        else sa.or_(JobRow.library_id == library_id, JobRow.library_id.is_(None))
    )
    query = (
        sa.select(JobRow)
        .where(
            JobRow.type == job_type,
            JobRow.trigger == trigger.value,
            scope,
            JobRow.created_at > cutoff,
        )
        .order_by(JobRow.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()
