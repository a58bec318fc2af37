"""Cancelling a job: the one statement sequence behind ``JobService.cancel_job``.

A pending job is cancelled at once (it never runs). An in-progress job gets
``cancel_requested``: its worker sees the flag within about a second, its handler
sees ``context.cancelled`` and stops, and the run ends ``cancelled``. A finished
job cannot be cancelled. The job's row is locked (PostgreSQL) or the database is
(SQLite) while the status is read and changed, so a worker claiming, finishing or
rescuing the job at the same moment either goes first or after, never between.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.clock import database_now
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.enums import FINISHED_STATUSES, JobStatus
from shisho_jobs.errors import JobAlreadyFinished, JobNotFound
from shisho_jobs.outbox import EVENT_STATUS_CHANGED, record_event
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import MAX_ID, JobRow
from shisho_jobs.visibility import can_see

_jobs: Final = cast(sa.Table, JobRow.__table__)
_FINISHED: Final = frozenset(status.value for status in FINISHED_STATUSES)


def cancel_job(
    database: Database,
    job_types: JobTypeRegistry,
    job_id: int,
    visible_library_ids: Collection[int] | None,
) -> tuple[Job, bool]:
    """Cancel the job in one write transaction (see :meth:`JobService.cancel_job`).

    Returns:
        The job as it is now, and whether this call changed it (asked twice: ``False``).

    Raises:
        JobNotFound: no such job (or not visible).
        JobAlreadyFinished: the job has finished already; carries it.
    """
    if not isinstance(job_id, int) or not 1 <= job_id <= MAX_ID:
        raise JobNotFound(job_id)
    with database.write_connection(notify=True) as connection:
        row = lock_job_row(connection, job_id)
        if row is None or not can_see(visible_library_ids, row.library_id):
            raise JobNotFound(job_id)
        if row.status in _FINISHED:
            raise JobAlreadyFinished(job_from_row(row, job_types))
        changed = cancel_locked_job(connection, row)
        if changed is None:
            return job_from_row(row, job_types), False
        job = job_from_row(changed, job_types)
        record_event(connection, job, EVENT_STATUS_CHANGED)
    return job, True


def lock_job_row(connection: Connection, job_id: int) -> Any | None:
    """The job's row, locked until the transaction ends (PostgreSQL), or ``None``."""
    query = sa.select(_jobs).where(_jobs.c.id == job_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return connection.execute(query).first()


def cancel_locked_job(connection: Connection, row: Any) -> Any | None:
    """Cancel the job of ``row`` (locked by :func:`lock_job_row` in this transaction).

    Returns:
        The changed row (every column): ``cancelled`` if it was pending, still
        ``in_progress`` with ``cancel_requested`` if it was running; ``None`` when
        nothing changed (finished already, or a cancel was already requested).
    """
    now = database_now(connection.dialect.name)
    if row.status == JobStatus.PENDING.value:
        values: dict[str, Any] = {
            "status": JobStatus.CANCELLED.value,
            "cancel_requested": True,
            "finished_at": now,
            "waiting": None,
        }
    elif row.status == JobStatus.IN_PROGRESS.value and not row.cancel_requested:
        values = {"cancel_requested": True}
    else:
        return None
    statement = (
        sa.update(_jobs)
        .where(_jobs.c.id == row.id, _jobs.c.status == row.status)
        .values(**values, updated_at=now)
        .returning(*_jobs.c)
    )
    return connection.execute(statement).first()
