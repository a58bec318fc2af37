"""The SQLAlchemy schema owned by shisho_jobs: ``jobs``, ``job_logs``, ``job_events``, ``workers``.

``jobs.library_id`` references the host's ``libraries(id)`` table. The host owns
that table (name and primary key are fixed, as in Shisho); the table stub below
only lets SQLAlchemy resolve the foreign key and is never created or compared by
shisho_jobs. Deleting a library deletes its jobs, their logs and their events
(``ON DELETE CASCADE``): a job of a library that no longer exists has nothing
left to scan and nobody who may see it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shisho_jobs import scope_counts, warning_counts
from shisho_jobs.enums import ACTIVE_STATUS_SQL, JobStatus, JobTrigger

LIBRARIES_TABLE = "libraries"
"""Name of the host's libraries table; its primary key must be an integer ``id``."""

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bigger than any id we hand out on either engine; used to refuse ids that
# would overflow a column before they reach the database.
MAX_ID = 2**31 - 1


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine.

    SQLite has no time zones: values are stored as naive UTC text (which sorts
    correctly) and come back with ``tzinfo=UTC``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base whose MetaData holds only the tables shisho_jobs owns."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


HOST_METADATA = sa.MetaData()
"""The host's tables as far as shisho_jobs needs to know them: only ``libraries(id)``.

Kept out of ``Base.metadata`` so that a host may put our metadata beside its own in
``target_metadata`` (its own ``libraries`` model would collide with a stub there)."""

# Referenced, never owned.
libraries_stub = sa.Table(
    LIBRARIES_TABLE,
    HOST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    info={"shisho_jobs_external": True},
)


def _values_sql(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


STATUS_KNOWN_SQL = _values_sql("status", [status.value for status in JobStatus])
TRIGGER_KNOWN_SQL = _values_sql("trigger", [trigger.value for trigger in JobTrigger])


class JobRow(Base):
    """One job: a scan, an export, or a plugin's job type."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    data: Mapped[str] = mapped_column(sa.Text, nullable=False)
    progress: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    process_id: Mapped[str | None] = mapped_column(sa.String(255))
    library_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey(libraries_stub.c.id, ondelete="CASCADE")
    )
    # Worker bookkeeping (leases, fencing and outcomes).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    """Incremented by every claim; a worker's writes are fenced by (process_id, attempt)."""
    crash_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    """How often the job was rescued from a lost worker; never counts handler errors."""
    error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, server_default=sa.false()
    )
    # What the Job JSON tells beyond the status (results, cancel, stalled, waiting).
    trigger: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, server_default=JobTrigger.MANUAL.value
    )
    """What started the job: a :class:`~shisho_jobs.enums.JobTrigger` value."""
    result: Mapped[str | None] = mapped_column(sa.Text)
    """What the handler returned, as JSON (its job type's result struct)."""
    warnings: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    """How many ``warn`` lines the job logged; kept by the transaction that writes each."""
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the work last moved (its claim, then each progress write). Stall detection
    compares it with the database's clock; a heartbeat never touches it."""
    stalled_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """``last_progress_at`` as it was when the job was found stalled; cleared by progress."""
    waiting: Mapped[str | None] = mapped_column(sa.String(255))
    """Why no live worker can run this pending job, in words; null when one can."""
    retry_of: Mapped[int | None] = mapped_column(sa.Integer)
    """The finished job this one runs again. Not a foreign key: retention may delete
    the original first, and a retry outlives it."""
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When this failed job is due to be retried automatically; cleared once it was."""

    __table_args__ = (
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        sa.CheckConstraint(STATUS_KNOWN_SQL, name="status_known"),
        sa.CheckConstraint(TRIGGER_KNOWN_SQL, name="trigger_known"),
        # "Newest first" of one type and scope (the button's status query), never a
        # sort: ids, not clocks, say which job is newest (revision 20261201100000).
        sa.Index("ix_jobs_type_library_id", "type", "library_id", "id"),
        # Active jobs are few; this partial index answers has_active_job and the
        # start-or-join check without touching the history.
        sa.Index(
            "ix_jobs_active_scope",
            "type",
            "library_id",
            sqlite_where=sa.text(ACTIVE_STATUS_SQL),
            postgresql_where=sa.text(ACTIVE_STATUS_SQL),
        ),
        # The worker's queue: oldest pending first (by id), and expired leases.
        sa.Index(
            "ix_jobs_pending_queue",
            "id",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_jobs_running_lease",
            "lease_expires_at",
            sqlite_where=sa.text("status = 'in_progress'"),
            postgresql_where=sa.text("status = 'in_progress'"),
        ),
        sa.Index("ix_jobs_status_finished", "status", "finished_at"),
        # Failed jobs due for an automatic retry: a handful, whatever the history.
        sa.Index(
            "ix_jobs_retry_due",
            "retry_at",
            sqlite_where=sa.text("retry_at IS NOT NULL"),
            postgresql_where=sa.text("retry_at IS NOT NULL"),
        ),
        # Ids are never reused on SQLite either: a bookmarked job page or a
        # client's last-seen id must not come to mean another job later.
        {"sqlite_autoincrement": True},
    )


class JobLogRow(Base):
    """One log line of a job. Goes with its job (ON DELETE CASCADE)."""

    __tablename__ = "job_logs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    job_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    )
    level: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    plugin: Mapped[str | None] = mapped_column(sa.String(255))
    data: Mapped[str | None] = mapped_column(sa.Text)
    stack_trace: Mapped[str | None] = mapped_column(sa.Text)
    library_id: Mapped[int | None] = mapped_column(sa.Integer)
    """The library the line is about: ``None`` no library in particular, 0 every library
    (see :mod:`shisho_jobs.visibility`). Readers get only the lines they may see."""

    __table_args__ = (sa.Index("ix_job_logs_job_id_id", "job_id", "id"),)


class JobEventRow(Base):
    """Outbox of job changes: one row per created / status_changed / progress event.

    Written in the same transaction as the change it describes, so live event
    streams in any process (or on any host) see every change, once each, in id
    order, and can resume from an event id after a reconnect (see
    :mod:`shisho_jobs.outbox`).
    """

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    job_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    )
    library_id: Mapped[int | None] = mapped_column(sa.Integer)
    event: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    job_json: Mapped[str] = mapped_column(sa.Text, nullable=False)
    """The Job JSON (CONTRACT section 4) as it was right after the change."""

    __table_args__ = (
        sa.Index("ix_job_events_job_id", "job_id"),
        sa.Index("ix_job_events_created", "created_at"),
        # A resuming event stream asks for ids above its last one; a reused id
        # (after pruning emptied the table) would hide new events from it.
        {"sqlite_autoincrement": True},
    )


class WorkerRow(Base):
    """A live worker process: it heartbeats its row; an expired row is deleted by anyone.

    The rows say whether a pending job can run at all (a live worker that runs its type).
    ``heartbeat_at`` and ``expires_at`` come from the database's clock on PostgreSQL, so
    workers on hosts whose clocks disagree still judge each other right.
    """

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    """The worker's ``process_id`` (what ``jobs.process_id`` names)."""
    host: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    pid: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    concurrency: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    job_types: Mapped[str] = mapped_column(sa.Text, nullable=False)
    """JSON list of the job types the worker runs."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    """The worker counts as gone once this passed without a heartbeat."""

    __table_args__ = (sa.Index("ix_workers_expires_at", "expires_at"),)


class LibraryWatchRow(Base):
    """How one live worker watches one library's folder, for admins (``/api/jobs/watchers``).

    Written by the worker's watch duty when something changed, deleted with the worker's
    row (a worker that stops, or whose row expired, watches nothing).
    """

    __tablename__ = "library_watches"

    worker_id: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True
    )
    library_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    """Not a foreign key: the host's library may go first; the next refresh drops the row."""
    health: Mapped[str] = mapped_column(sa.Text, nullable=False)
    """The :class:`~shisho_jobs.watch.WatchHealth` as JSON."""


class JobScopeCountRow(Base):
    """How many jobs of a type a library has (``library_key`` 0: global jobs).

    Kept by triggers on ``jobs`` (see :mod:`shisho_jobs.scope_counts`); read by
    list totals so that they never count the history.
    """

    __tablename__ = "job_scope_counts"

    type: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    library_key: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    jobs: Mapped[int] = mapped_column(sa.Integer, nullable=False)


def _touches(tables: object, name: str) -> bool:
    return tables is None or any(
        getattr(table, "name", None) == name
        for table in tables  # type: ignore[attr-defined]
    )


def _create_triggers(
    target: sa.MetaData, connection: sa.Connection, tables: object = None, **_: object
) -> None:
    dialect = connection.dialect.name
    statements: list[str] = []
    if _touches(tables, "jobs"):
        statements += scope_counts.create_statements(dialect)
    if _touches(tables, "job_logs"):
        statements += warning_counts.create_statements(dialect)
    for statement in statements:
        connection.exec_driver_sql(statement)


def _drop_triggers(
    target: sa.MetaData, connection: sa.Connection, tables: object = None, **_: object
) -> None:
    dialect = connection.dialect.name
    statements: list[str] = []
    if _touches(tables, "job_logs"):
        statements += warning_counts.drop_statements(dialect)
    if _touches(tables, "jobs"):
        statements += scope_counts.drop_statements(dialect)
    for statement in statements:
        connection.exec_driver_sql(statement)


# create_all() makes the triggers as the migrations do (metadata-level events run
# once every table exists, so the trigger bodies find job_scope_counts).
sa.event.listen(Base.metadata, "after_create", _create_triggers)
sa.event.listen(Base.metadata, "before_drop", _drop_triggers)


def owned_tables() -> list[sa.Table]:
    """The tables shisho_jobs creates and migrates (not the host's libraries table)."""
    return [t for t in Base.metadata.sorted_tables if not t.info.get("shisho_jobs_external")]
