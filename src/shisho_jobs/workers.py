"""Live workers (the ``workers`` table) and what they tell about pending jobs (``waiting``).

Every worker keeps a row while it runs: it registers when it starts, renews its
``expires_at`` with each heartbeat and deletes its row when it stops. A worker
killed without a word (SIGKILL, a lost host) leaves a row that expires; any
process deletes expired rows (:func:`delete_expired_workers`).

A pending job that no live worker can run carries ``waiting``, the reason in
words. :func:`refresh_waiting` brings every pending job's ``waiting`` in line with
the live workers in one statement (run after a worker starts, stops or expires)
and returns the jobs whose JSON changed, for their events.

Times come from the database's clock on PostgreSQL (:mod:`shisho_jobs.clock`):
a worker on a host whose clock is off by minutes is still judged right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.clock import database_now, database_time_from_now
from shisho_jobs.schema import JobRow, WorkerRow

NO_WORKER: Final = "No worker is running."
"""``waiting`` of a pending job when no worker is running at all."""

_workers: Final = cast(sa.Table, WorkerRow.__table__)
_jobs: Final = cast(sa.Table, JobRow.__table__)
_PENDING_SQL: Final = "status = 'pending'"  # literal, so SQLite uses the partial queue index


def no_worker_runs(job_type: str) -> str:
    """``waiting`` of a pending job when workers run, but none runs its type."""
    return f"No worker runs `{job_type}` jobs."


class WorkerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A live worker as the API shows it (``GET /api/jobs/workers``)."""

    id: str
    """The worker's process id, as jobs name it in ``process_id``."""
    host: str
    """The machine it runs on."""
    pid: int
    """Its operating-system process id on that machine."""
    concurrency: int
    """How many jobs it runs at once."""
    job_types: list[str]
    """The job types it can run."""
    started_at: datetime
    heartbeat_at: datetime
    """Its latest sign of life."""


class ListWorkersResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs/workers``: the live workers, oldest first."""

    workers: list[WorkerInfo]


@dataclass(frozen=True)
class WorkerRegistration:
    """What a worker says about itself when it registers."""

    id: str
    host: str
    pid: int
    concurrency: int
    job_types: Sequence[str]


def register_worker(
    connection: Connection, registration: WorkerRegistration, *, lease_seconds: float
) -> None:
    """Write (or rewrite) the worker's row, alive for ``lease_seconds`` from now.

    Args:
        connection: a connection inside the caller's write transaction.
        registration: the worker.
        lease_seconds: how long the row stays alive without a heartbeat.
    """
    dialect = connection.dialect.name
    connection.execute(sa.delete(_workers).where(_workers.c.id == registration.id))
    connection.execute(
        sa.insert(_workers).values(
            id=registration.id,
            host=registration.host,
            pid=registration.pid,
            concurrency=registration.concurrency,
            job_types=msgspec.json.encode(sorted(registration.job_types)).decode(),
            started_at=database_now(dialect),
            heartbeat_at=database_now(dialect),
            expires_at=database_time_from_now(dialect, lease_seconds),
        )
    )


def heartbeat_worker(connection: Connection, worker_id: str, *, lease_seconds: float) -> bool:
    """Keep the worker's row alive for ``lease_seconds`` more.

    Returns:
        ``False`` when the row is gone (it expired and was deleted): register again.
    """
    dialect = connection.dialect.name
    statement = (
        sa.update(_workers)
        .where(_workers.c.id == worker_id)
        .values(
            heartbeat_at=database_now(dialect),
            expires_at=database_time_from_now(dialect, lease_seconds),
        )
    )
    return bool(connection.execute(statement).rowcount)


def deregister_worker(connection: Connection, worker_id: str) -> None:
    """Delete the worker's row (it is stopping)."""
    connection.execute(sa.delete(_workers).where(_workers.c.id == worker_id))


def _expired(dialect: str) -> sa.ColumnElement[bool]:
    return _workers.c.expires_at < database_now(dialect)


def has_expired_workers(connection: Connection) -> bool:
    """Whether any worker's row expired (a plain read: callers write only when needed)."""
    query = sa.select(_workers.c.id).where(_expired(connection.dialect.name)).limit(1)
    return connection.execute(query).first() is not None


def delete_expired_workers(connection: Connection) -> list[str]:
    """Delete the rows of workers that stopped heartbeating.

    Returns:
        The ids of the workers deleted.
    """
    statement = (
        sa.delete(_workers).where(_expired(connection.dialect.name)).returning(_workers.c.id)
    )
    return [row[0] for row in connection.execute(statement)]


def list_live_workers(connection: Connection) -> list[WorkerInfo]:
    """The workers whose rows have not expired, oldest first."""
    query = (
        sa.select(_workers)
        .where(sa.not_(_expired(connection.dialect.name)))
        .order_by(_workers.c.started_at, _workers.c.id)
    )
    return [
        WorkerInfo(
            id=row.id,
            host=row.host,
            pid=row.pid,
            concurrency=row.concurrency,
            job_types=msgspec.json.decode(row.job_types, type=list[str]),
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
        )
        for row in connection.execute(query)
    ]


@dataclass(frozen=True)
class LiveWorkers:
    """What the live workers can run."""

    any: bool
    """Whether any worker is alive."""
    job_types: frozenset[str]
    """The job types at least one live worker runs."""

    def waiting_reason(self, job_type: str) -> str | None:
        """Why a pending job of ``job_type`` cannot run, or ``None`` when it can."""
        if not self.any:
            return NO_WORKER
        return None if job_type in self.job_types else no_worker_runs(job_type)


def live_workers(connection: Connection) -> LiveWorkers:
    """Whether workers are alive and which job types they run (one small read)."""
    query = sa.select(_workers.c.job_types).where(sa.not_(_expired(connection.dialect.name)))
    types: set[str] = set()
    alive = False
    for (encoded,) in connection.execute(query):
        alive = True
        types.update(msgspec.json.decode(encoded, type=list[str]))
    return LiveWorkers(any=alive, job_types=frozenset(types))


def _desired_waiting(live: LiveWorkers) -> sa.ColumnElement[Any]:
    """``waiting`` as it should be for a pending job, as SQL over its ``type``."""
    if not live.any:
        return sa.literal(NO_WORKER, sa.String())
    reason = sa.literal("No worker runs `", sa.String()) + _jobs.c.type + sa.literal("` jobs.")
    if not live.job_types:
        return reason
    return sa.case((_jobs.c.type.in_(sorted(live.job_types)), sa.null()), else_=reason)


def refresh_waiting(connection: Connection, live: LiveWorkers) -> list[Any]:
    """Set every pending job's ``waiting`` to what ``live`` says; only rows that change.

    Args:
        connection: a connection inside the caller's write transaction.
        live: the live workers, read in the same transaction.

    Returns:
        The changed ``jobs`` rows (every column), for their ``job.status_changed`` events.
    """
    desired = _desired_waiting(live)
    statement = (
        sa.update(_jobs)
        .where(sa.text(_PENDING_SQL), _jobs.c.waiting.is_distinct_from(desired))
        .values(waiting=desired, updated_at=database_now(connection.dialect.name))
        .returning(*_jobs.c)
    )
    return list(connection.execute(statement))


def waiting_is_stale(connection: Connection, live: LiveWorkers) -> bool:
    """Whether some pending job's ``waiting`` disagrees with ``live`` (a plain read)."""
    query = (
        sa.select(_jobs.c.id)
        .where(sa.text(_PENDING_SQL), _jobs.c.waiting.is_distinct_from(_desired_waiting(live)))
        .limit(1)
    )
    return connection.execute(query).first() is not None
