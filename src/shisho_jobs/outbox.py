"""The ``job_events`` outbox: every job change leaves one row, written in the change's own
transaction, which live event streams read in id order.

Writers (the service and the worker) call :func:`record_event`, or run
:data:`EVENT_INSERT_SQL` with :func:`event_insert_params` on a driver cursor in the
worker's hot path: the same statement either way. On PostgreSQL it queues a ``NOTIFY`` on
:data:`NOTIFY_CHANNEL` whose payload is ``"<event> <job id>"``.

Ids follow cause and effect on both engines: a change made after another change's commit
was seen (a claim after a finish, the next step of the same job) has the higher id. SQLite
serialises writers, so ids are in commit order there. PostgreSQL writers take no lock, so
two independent transactions may commit out of id order; readers therefore read only up to
the settled id (:mod:`shisho_jobs.outbox_horizon`) and still receive every event once, in
id order, with no gap.

Readers (the plugin's event hub and its resume of a reconnecting stream) use
:class:`Outbox`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.clock import POSTGRES_NOW, now_on
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.outbox_horizon import Horizon
from shisho_jobs.schema import JobEventRow, UTCDateTime, utcnow
from shisho_jobs.visibility import Visibility, shown_job_json

NOTIFY_CHANNEL: Final = "shisho_jobs"
"""PostgreSQL channel that carries a notification for every job event."""

EVENT_CREATED: Final = "job.created"
EVENT_STATUS_CHANGED: Final = "job.status_changed"
EVENT_PROGRESS: Final = "job.progress"
EVENT_SNAPSHOT: Final = "job.snapshot"
"""Never stored: event streams send it on a reconnect whose missed events can no longer be
replayed, once per recent job, with the job's current JSON."""

_EVENT_COLUMNS: Final = "created_at, job_id, library_id, event, job_json"
EVENT_INSERT_SQL: Final = {
    "sqlite": f"INSERT INTO job_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
    # The transaction takes its id (if it has none yet) before the row's id is drawn:
    # the materialised CTE is scanned first. Readers' horizon relies on that order
    # (shisho_jobs.outbox_horizon). pg_notify in RETURNING queues the notification in the
    # same round trip.
    "postgresql": (
        "WITH writer AS MATERIALIZED (SELECT pg_current_xact_id()) "
        f"INSERT INTO job_events ({_EVENT_COLUMNS}) "
        f"SELECT {POSTGRES_NOW}, %s::integer, %s::integer, %s::varchar, %s::text "
        "FROM writer RETURNING id, pg_notify(%s::text, %s::text)"
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
    encoded = msgspec.json.encode(job).decode() if job_json is None else job_json
    row = (job.id, job.library_id, event, encoded)
    if dialect.name == "postgresql":
        # The event's time is the database's (shisho_jobs.clock), written by the statement.
        return (*row, NOTIFY_CHANNEL, notify_payload(event, job.id))
    return (timestamp_binder(dialect)(utcnow()), *row)


def record_event(
    connection: Connection, job: Job, event: str, *, job_json: str | None = None
) -> None:
    """Append ``event`` for ``job`` to the outbox, inside the caller's write transaction.

    One statement on either engine: on PostgreSQL it inserts the row and queues the
    ``NOTIFY`` in a single round trip.

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
    """The Job JSON as readers of every library receive it."""

    def job_json_for(self, visibility: Visibility) -> str:
        """The Job JSON as a reader with ``visibility`` receives it (which it may see:
        :meth:`Visibility.matches` first)."""
        return self.job_json if visibility.sees_every_library else self._limited_json

    @functools.cached_property
    def _limited_json(self) -> str:
        # The same for every reader of only some libraries: made once per event, however
        # many streams send it.
        return shown_job_json(self.job_json, frozenset())


_EVENT_FIELDS: Final = (
    JobEventRow.id,
    JobEventRow.event,
    JobEventRow.library_id,
    JobEventRow.job_json,
)


@dataclass(frozen=True)
class LiveRead:
    """What one read of new events found."""

    events: list[OutboxEvent]
    held_back: bool
    """PostgreSQL: more events may be waiting behind transactions still running when the
    read was made; read again soon (no notification will say when)."""
    newest_committed: int
    """The newest event id committed when the read was made (0: none seen): at least the
    last event read; above it while events are held back."""


class Outbox:
    """Reads and prunes the ``job_events`` outbox of one database (blocking calls).

    On PostgreSQL an instance keeps how far its reads have settled
    (:class:`~shisho_jobs.outbox_horizon.Horizon`): readers that follow new events keep
    one instance for their whole life.

    Args:
        database: the jobs database.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._horizon = Horizon() if database.dialect == "postgresql" else None

    def new_events_after(self, after_id: int, *, limit: int) -> LiveRead:
        """Events above ``after_id`` that no event still to commit can come before, oldest
        first, at most ``limit`` of them: a reader that moves its cursor to the last one
        never misses an event.

        Args:
            after_id: the last event id the reader already has (from these reads or from
                :meth:`latest_id`).
            limit: how many to read (a backlog is read in several batches).
        """
        if self._horizon is None:  # SQLite: ids are in commit order
            events = self.events_after(after_id, limit=limit)
            newest = events[-1].id if events else 0
            return LiveRead(events, held_back=False, newest_committed=newest)
        with self._database.read_connection() as connection:
            read = self._horizon.read(connection, after_id, limit=limit)
        events = [OutboxEvent(*row) for row in read.rows]
        return LiveRead(events, held_back=read.held_back, newest_committed=read.newest_committed)

    def events_after(
        self,
        after_id: int,
        *,
        limit: int,
        up_to: int | None = None,
        visibility: Visibility | None = None,
    ) -> list[OutboxEvent]:
        """Events with an id above ``after_id``, oldest first, at most ``limit`` of them.

        Only for ids up to one that :meth:`latest_id` gave (or SQLite): above it, an event
        may still commit behind one returned here. Follow new events with
        :meth:`new_events_after`.

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
        """The newest event id (0 when the outbox is empty): every event up to it is
        readable now, and every event still to commit gets a higher id.

        On PostgreSQL it waits for transactions that may still commit an event below it
        (a few milliseconds; a transaction left open anywhere on the server holds it back).

        Raises:
            OutboxNotSettled: PostgreSQL, such a transaction is still open after
                :data:`~shisho_jobs.outbox_horizon.SETTLE_TIMEOUT` seconds.
        """
        with self._database.read_connection() as connection:
            if self._horizon is not None:
                return self._horizon.settled_latest(connection)
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
        with self._database.write_connection() as connection:
            cutoff = now_on(connection) - timedelta(seconds=older_than_seconds)
            result = connection.execute(
                sa.delete(JobEventRow).where(JobEventRow.created_at < cutoff)
            )
            return int(result.rowcount or 0)
