"""The ``job_events`` outbox: every job change leaves one row, written in the change's own
transaction, which live event streams read in id order.

Writers (the service and the worker) call :func:`record_event`, or run
:data:`EVENT_INSERT_SQL` with :func:`event_insert_params` on a driver cursor in the
worker's hot path: the same statement either way. On PostgreSQL the statement takes a
transaction-scoped lock before the row's id is drawn, so ids become visible in commit
order (a reader that has seen event N has seen every event below N), and queues a
``NOTIFY`` on :data:`NOTIFY_CHANNEL` whose payload is ``"<event> <job id>"``.

Readers (the plugin's event hub and its resume of a reconnecting stream) use
:class:`Outbox`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.schema import JobEventRow, UTCDateTime, utcnow
from shisho_jobs.visibility import Visibility

NOTIFY_CHANNEL: Final = "shisho_jobs"
"""PostgreSQL channel that carries a notification for every job event."""

EVENT_CREATED: Final = "job.created"
EVENT_STATUS_CHANGED: Final = "job.status_changed"
EVENT_PROGRESS: Final = "job.progress"
EVENT_SNAPSHOT: Final = "job.snapshot"
"""Never stored: event streams send it on a reconnect whose missed events can no longer be
replayed, once per recent job, with the job's current JSON."""

_EVENTS_LOCK_KEY: Final = zlib.crc32(b"shisho_jobs:events") - 2**31

_EVENT_COLUMNS: Final = "created_at, job_id, library_id, event, job_json"
EVENT_INSERT_SQL: Final = {
    "sqlite": f"INSERT INTO job_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
    # The lock is taken before the row's id is drawn (the materialised CTE is
    # scanned first) and held until commit, so ids become visible in commit
    # order; pg_notify in RETURNING queues the notification in the same round trip.
    "postgresql": (
        "WITH events_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s::integer, 0)) "
        f"INSERT INTO job_events ({_EVENT_COLUMNS}) "
        "SELECT %s::timestamptz, %s::integer, %s::integer, %s::varchar, %s::text "
        "FROM events_lock RETURNING id, pg_notify(%s::text, %s::text)"
    ),
}
"""The outbox insert in each driver's own parameter style (see :func:`event_insert_params`)."""


def notify_payload(event: str, job_id: int) -> str:
    """The ``NOTIFY`` payload of ``event`` for job ``job_id``: ``"<event> <job id>"``."""
    return f"{event} {job_id}"


def event_insert_params(
    dialect: sa.Dialect, job: Job, event: str, job_json: str | None = None
) -> tuple[Any, ...]:
    """The parameters of :data:`EVENT_INSERT_SQL` for ``event`` of ``job``, ready for the driver.

    Args:
        dialect: the engine's dialect (timestamps are stored the way SQLAlchemy stores them).
        job: the job as it is right after the change.
        event: ``job.created``, ``job.status_changed`` or ``job.progress``.
        job_json: ``job`` already encoded as JSON, if the caller has it.
    """
    created_at = timestamp_binder(dialect)(utcnow())
    encoded = msgspec.json.encode(job).decode() if job_json is None else job_json
    row = (created_at, job.id, job.library_id, event, encoded)
    if dialect.name == "postgresql":
        return (_EVENTS_LOCK_KEY, *row, NOTIFY_CHANNEL, notify_payload(event, job.id))
    return row


def record_event(
    connection: Connection, job: Job, event: str, *, job_json: str | None = None
) -> None:
    """Append ``event`` for ``job`` to the outbox, inside the caller's write transaction.

    One statement on either engine: on PostgreSQL it takes the events lock, inserts the
    row and queues the ``NOTIFY`` in a single round trip.

    Args:
        connection: a connection inside the caller's write transaction (an ORM session's
            ``session.connection()`` after ``session.flush()`` works too).
        job: the job as it is right after the change.
        event: ``job.created``, ``job.status_changed`` or ``job.progress``.
        job_json: ``job`` already encoded as JSON (saves encoding it twice).
    """
    dialect = connection.dialect
    params = event_insert_params(dialect, job, event, job_json)
    connection.exec_driver_sql(EVENT_INSERT_SQL[dialect.name], params)


def timestamp_binder(dialect: sa.Dialect) -> Callable[[Any], Any]:
    """How a UTC timestamp is passed to this dialect's driver (SQLite: naive text)."""
    binder = _TIMESTAMP_BINDERS.get(dialect.name)
    if binder is None:
        processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        binder = processor if processor is not None else _identity
        _TIMESTAMP_BINDERS[dialect.name] = binder
    return binder


def _identity(value: Any) -> Any:
    return value


_TIMESTAMP_BINDERS: dict[str, Callable[[Any], Any]] = {}


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEvent:
    """One row of the ``job_events`` outbox, as streams send it."""

    id: int
    event: str
    library_id: int | None
    job_json: str


_EVENT_FIELDS: Final = (
    JobEventRow.id,
    JobEventRow.event,
    JobEventRow.library_id,
    JobEventRow.job_json,
)


class Outbox:
    """Reads and prunes the ``job_events`` outbox of one database (blocking calls).

    Args:
        database: the jobs database.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def events_after(
        self,
        after_id: int,
        *,
        limit: int,
        up_to: int | None = None,
        visibility: Visibility | None = None,
    ) -> list[OutboxEvent]:
        """Events with an id above ``after_id``, oldest first, at most ``limit`` of them.

        Args:
            after_id: the last event id the reader already has.
            limit: how many to read (a backlog is read in several batches).
            up_to: only events up to this id (a resume stops where live events begin).
            visibility: only events this reader may see (``None``: all).
        """
        query = sa.select(*_EVENT_FIELDS).where(JobEventRow.id > after_id)
        if up_to is not None:
            query = query.where(JobEventRow.id <= up_to)
        if visibility is not None:
            query = query.where(*visibility.sql(JobEventRow.library_id))
        query = query.order_by(JobEventRow.id).limit(limit)
        with self._database.read_connection() as connection:
            return [OutboxEvent(*row) for row in connection.execute(query)]

    def latest_id(self) -> int:
        """The newest event id (0 when the outbox is empty)."""
        with self._database.read_connection() as connection:
            return int(connection.scalar(sa.select(sa.func.max(JobEventRow.id))) or 0)

    def oldest_id(self) -> int | None:
        """The oldest event id still kept (``None`` when the outbox is empty)."""
        with self._database.read_connection() as connection:
            oldest = connection.scalar(sa.select(sa.func.min(JobEventRow.id)))
            return None if oldest is None else int(oldest)

    def prune(self, *, older_than_seconds: float) -> int:
        """Delete events older than this (live streams only need recent ones).

        Returns:
            How many rows were deleted.
        """
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        with self._database.write_connection() as connection:
            result = connection.execute(
                sa.delete(JobEventRow).where(JobEventRow.created_at < cutoff)
            )
            return int(result.rowcount or 0)
