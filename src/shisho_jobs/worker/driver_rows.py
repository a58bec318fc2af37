"""The plumbing of the worker's driver statements: transactions, times, job rows, events.

Shared by :class:`~shisho_jobs.worker.store.WorkerStore` and the folder watcher's join
statements (:mod:`shisho_jobs.worker.joins`): a write transaction on a pooled driver
cursor, the parameters of a statement's ``{now}`` and ``{shifted}`` placeholders, a
returned row as a :class:`~shisho_jobs.dto.Job` (through the column types' own SQLAlchemy
processors, so values read exactly as everywhere else), and the ``job_events`` rows of
changed jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import sqlalchemy as sa

from shisho_jobs.clock import uses_database_clock
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.outbox import EVENT_INSERT_SQL, event_insert_params, timestamp_binder
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.statements import JOB_COLUMNS, WorkerStatements

Cursor = Any
"""A DB-API cursor (sqlite3 or psycopg); typed loosely, as DB-API cursors are."""


@dataclass(frozen=True)
class StatementTimes:
    """The parameters of a statement's ``{now}`` and ``{shifted}`` placeholders.

    With the database's clock (PostgreSQL) the statement computes both itself: ``{now}``
    takes no parameter and ``{shifted}`` only its number of seconds. With this host's
    clock (SQLite) both are timestamps, from one reading of the clock per statement.
    """

    now: tuple[Any, ...]
    """What ``{now}`` takes: nothing, or this host's time."""
    base: datetime | None
    stamp: Callable[[datetime], Any]

    def shifted(self, seconds: float) -> tuple[Any, ...]:
        """What ``{shifted}`` takes for now plus ``seconds`` (negative: ago)."""
        if self.base is None:
            return (seconds,)
        return (self.stamp(self.base + timedelta(seconds=seconds)),)


_JobRecord = NamedTuple(  # type: ignore[misc]  # fields from Job, see rows.job_from_row
    "_JobRecord", [(name, Any) for name in JOB_COLUMNS]
)


class DriverRows:
    """The worker's statements and their plumbing for one database.

    Args:
        database: where the jobs live.
        job_types: decodes the payloads of the jobs read; the worker claims only these types.
    """

    def __init__(self, database: Database, job_types: JobTypeRegistry) -> None:
        self.database = database
        self._job_types = job_types
        dialect = database.engine.dialect
        self.sql = WorkerStatements.of(dialect.name, job_types.names)
        self.postgres = dialect.name == "postgresql"
        self._event_sql = EVENT_INSERT_SQL[dialect.name]
        self._dialect = dialect
        self._stamp: Callable[[datetime], Any] = timestamp_binder(dialect)
        self._database_clock = uses_database_clock(dialect)
        columns = cast(sa.Table, JobRow.__table__).columns
        self._readers = [
            (index, reader)
            for index, name in enumerate(JOB_COLUMNS)
            if (reader := columns[name].type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        self._read_timestamp = (
            columns["created_at"].type.dialect_impl(dialect).result_processor(dialect, None)
        )

    def now(self) -> StatementTimes:
        """The parameters of one statement's times (see :mod:`shisho_jobs.clock`)."""
        if self._database_clock:
            return StatementTimes((), None, self._stamp)
        now = utcnow()
        return StatementTimes((self._stamp(now),), now, self._stamp)

    def timestamp(self, raw: Any) -> datetime:
        """A timestamp column's value as read by the driver, as a ``datetime``."""
        return cast(datetime, raw if self._read_timestamp is None else self._read_timestamp(raw))

    def cursor(self, *, notify: bool = False) -> AbstractContextManager[Cursor]:
        """A driver cursor inside one write transaction (commits when the block succeeds)."""
        return self.database.driver_write(notify=notify)

    def job(self, cursor: Cursor, sql: str, params: Sequence[Any]) -> Job | None:
        """Run ``sql`` and read the job row it returns, if any."""
        cursor.execute(sql, params)
        raw = cursor.fetchone()
        if raw is None:
            return None
        values = list(raw)
        for index, reader in self._readers:
            values[index] = reader(values[index])
        return job_from_row(_JobRecord(*values), self._job_types)

    def record(self, cursor: Cursor, jobs: list[Job], event: str) -> None:
        """Append ``event`` to the outbox for each of ``jobs``, in the cursor's transaction."""
        # psycopg sends the statements of one executemany in a single round trip
        # (pipeline mode); each still queues its NOTIFY.
        if jobs:
            params = [event_insert_params(self._dialect, job, event) for job in jobs]
            cursor.executemany(self._event_sql, params)
