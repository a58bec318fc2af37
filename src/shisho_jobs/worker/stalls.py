"""Running jobs that stopped moving: flagged as stalled, and failed at their hard time limit.

Two questions, kept apart from the lease (a heartbeat says the worker lives, not
that the work moves):

- *stalled*: an in-progress job whose last progress (``last_progress_at``; its claim
  counts as progress) is older than its type's stall time gets ``stalled_since``,
  the time of that progress. It stays in progress; its next progress clears it.
- *timed out*: an in-progress job of a type with a hard limit (``JobTypeSpec.timeout``)
  that started longer ago than that fails with the reason, whether or not its
  handler listens to cancellation. The failure fences the old run out: its late
  writes match no row.

Both compare with the database's clock on PostgreSQL (:mod:`shisho_jobs.clock`), so
any worker on any host may run them; each statement changes a row once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.clock import database_now, database_time_from_now
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.schema import JobLogRow, JobRow

_jobs: Final = cast(sa.Table, JobRow.__table__)
_logs: Final = cast(sa.Table, JobLogRow.__table__)
_RUNNING_SQL: Final = "status = 'in_progress'"  # literal: SQLite's partial lease index
_LOG_PLUGIN: Final = "shisho_jobs"


def _last_moved() -> sa.ColumnElement[Any]:
    # Rows claimed before last_progress_at existed moved when they started.
    return sa.func.coalesce(_jobs.c.last_progress_at, _jobs.c.started_at)


def _stalled(
    dialect: str, default_seconds: float, per_type: Mapping[str, float]
) -> sa.ColumnElement[bool]:
    moved = _last_moved()
    arms = [
        sa.and_(_jobs.c.type == job_type, moved < database_time_from_now(dialect, -seconds))
        for job_type, seconds in sorted(per_type.items())
    ]
    others = moved < database_time_from_now(dialect, -default_seconds)
    arms.append(sa.and_(_jobs.c.type.not_in(sorted(per_type)), others) if per_type else others)
    return sa.and_(sa.text(_RUNNING_SQL), _jobs.c.stalled_since.is_(None), sa.or_(*arms))


def has_stalled_jobs(
    connection: Connection, *, default_seconds: float, per_type: Mapping[str, float]
) -> bool:
    """Whether a running job is due to be flagged stalled (a plain read)."""
    condition = _stalled(connection.dialect.name, default_seconds, per_type)
    return connection.execute(sa.select(_jobs.c.id).where(condition).limit(1)).first() is not None


def flag_stalled_jobs(
    connection: Connection, *, default_seconds: float, per_type: Mapping[str, float]
) -> list[Any]:
    """Give ``stalled_since`` to running jobs without progress for their stall time.

    Args:
        connection: a connection inside the caller's write transaction.
        default_seconds: the stall time of job types without their own
            (``SHISHO_STALL_SECONDS``).
        per_type: stall times of the job types that set one.

    Returns:
        The newly stalled ``jobs`` rows (every column), for their events.
    """
    dialect = connection.dialect.name
    statement = (
        sa.update(_jobs)
        .where(_stalled(dialect, default_seconds, per_type))
        .values(stalled_since=_last_moved(), updated_at=database_now(dialect))
        .returning(*_jobs.c)
    )
    return list(connection.execute(statement))


def describe_seconds(seconds: float) -> str:
    """A duration in words: ``45 seconds``, ``30 minutes``, ``2 hours``."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    count_text = f"{seconds:g}"
    return f"{count_text} second{'' if count_text == '1' else 's'}"


def timeout_error(job_type: str, seconds: float) -> str:
    """The ``error`` of a job stopped at its type's hard time limit."""
    return (
        f"Timed out: still running after {describe_seconds(seconds)}, "
        f"the time limit of `{job_type}` jobs."
    )


def _timed_out(dialect: str, timeouts: Mapping[str, float]) -> sa.ColumnElement[bool]:
    arms = [
        sa.and_(
            _jobs.c.type == job_type,
            _jobs.c.started_at < database_time_from_now(dialect, -seconds),
        )
        for job_type, seconds in sorted(timeouts.items())
    ]
    return sa.and_(sa.text(_RUNNING_SQL), sa.or_(*arms))


def has_timed_out_jobs(connection: Connection, *, timeouts: Mapping[str, float]) -> bool:
    """Whether a running job is past its type's hard time limit (a plain read)."""
    if not timeouts:
        return False
    condition = _timed_out(connection.dialect.name, timeouts)
    return connection.execute(sa.select(_jobs.c.id).where(condition).limit(1)).first() is not None


def fail_timed_out_jobs(connection: Connection, *, timeouts: Mapping[str, float]) -> list[Any]:
    """Fail the running jobs past their type's hard time limit, each with an error line.

    Args:
        connection: a connection inside the caller's write transaction.
        timeouts: the hard limit in seconds of each job type that has one.

    Returns:
        The failed ``jobs`` rows (every column), for their events.
    """
    if not timeouts:
        return []
    dialect = connection.dialect.name
    reasons = [
        (_jobs.c.type == job_type, timeout_error(job_type, seconds))
        for job_type, seconds in sorted(timeouts.items())
    ]
    error = sa.case(*reasons, else_=sa.null())
    now = database_now(dialect)
    statement = (
        sa.update(_jobs)
        .where(_timed_out(dialect, timeouts))
        .values(
            status=JobStatus.FAILED.value,
            error=error,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            stalled_since=None,
        )
        .returning(*_jobs.c)
    )
    rows = list(connection.execute(statement))
    if rows:
        connection.execute(
            sa.insert(_logs),
            [
                {
                    "created_at": row.finished_at,
                    "job_id": row.id,
                    "level": LogLevel.ERROR.value,
                    "message": row.error,
                    "plugin": _LOG_PLUGIN,
                }
                for row in rows
            ],
        )
    return rows
