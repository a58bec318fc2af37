"""Automatic retries: a failed job of a type with ``max_attempts`` > 1 is run again later.

When a run fails (its handler raised), the job gets ``retry_at`` if its chain of
runs (the job, the job it retried, and so on, through ``retry_of``) is shorter
than its type's ``max_attempts``: ``retry_backoff`` seconds from now, doubled for
each failure before. A worker takes due retries by clearing ``retry_at`` (one
statement, so two workers never take the same one) and starts each through
start-or-join with ``trigger: "retry"``: a retry never runs beside an active job
that would block it; it joins that job instead.

Cancelled jobs, jobs stopped at their hard limit and jobs whose worker was lost
are not retried automatically.
"""

from __future__ import annotations

from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.clock import database_now, database_time_from_now
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.schema import JobRow

_jobs: Final = cast(sa.Table, JobRow.__table__)
_DUE_SQL: Final = "retry_at IS NOT NULL"  # literal: SQLite's partial index ix_jobs_retry_due


def runs_in_chain(connection: Connection, job_id: int, *, limit: int) -> int:
    """How many runs the job's chain of retries has (1: the job itself), counting up to ``limit``.

    Args:
        connection: any connection.
        job_id: the job that just failed.
        limit: stop counting here (the type's ``max_attempts``).
    """
    count, current = 1, job_id
    query = sa.select(_jobs.c.retry_of).where(_jobs.c.id == sa.bindparam("job_id"))
    while count < limit:
        previous = connection.execute(query, {"job_id": current}).scalar()
        # A chain ends at a job that retries nothing, or one retention deleted.
        if previous is None:
            break
        count, current = count + 1, previous
    return count


def retry_delay(spec: JobTypeSpec, runs: int) -> float | None:
    """Seconds until the automatic retry of a job whose chain has ``runs`` failed runs.

    Returns:
        ``None`` when the type retries no more (``max_attempts`` reached).
    """
    if runs >= spec.max_attempts:
        return None
    return float(spec.retry_backoff * 2 ** (runs - 1))


def schedule_retry(connection: Connection, job_id: int, delay: float) -> Any | None:
    """Set the failed job's ``retry_at`` to ``delay`` seconds from now (the database's clock).

    Returns:
        The changed ``jobs`` row (every column), or ``None`` if the job is not failed.
    """
    dialect = connection.dialect.name
    statement = (
        sa.update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.status == "failed")
        .values(retry_at=database_time_from_now(dialect, delay))
        .returning(*_jobs.c)
    )
    return connection.execute(statement).first()


def has_due_retries(connection: Connection) -> bool:
    """Whether a failed job's automatic retry is due (a plain read)."""
    query = (
        sa.select(_jobs.c.id)
        .where(sa.text(_DUE_SQL), _jobs.c.retry_at <= database_now(connection.dialect.name))
        .limit(1)
    )
    return connection.execute(query).first() is not None


def take_due_retries(connection: Connection) -> list[Any]:
    """Clear ``retry_at`` of every failed job whose retry is due, and return those jobs.

    The caller starts each retry (start-or-join) after this commits; whoever cleared
    a row owns its retry.

    Returns:
        The ``jobs`` rows (every column) whose retry the caller now owns.
    """
    dialect = connection.dialect.name
    statement = (
        sa.update(_jobs)
        .where(sa.text(_DUE_SQL), _jobs.c.retry_at <= database_now(dialect))
        .values(retry_at=None)
        .returning(*_jobs.c)
    )
    return list(connection.execute(statement))


def cancel_retry(connection: Connection, job_id: int) -> Any | None:
    """Clear a pending automatic retry of the job (it was retried by hand).

    Returns:
        The changed ``jobs`` row, or ``None`` when it had no retry due.
    """
    statement = (
        sa.update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.retry_at.is_not(None))
        .values(retry_at=None)
        .returning(*_jobs.c)
    )
    return connection.execute(statement).first()
