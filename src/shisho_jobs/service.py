"""JobService: create, find, list, update and prune jobs (the seed's Go service, in Python).

Synchronous and framework-free. Every method runs its own short transaction.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shisho_jobs.cancel import cancel_locked_job, lock_job_row
from shisho_jobs.db import Database
from shisho_jobs.dto import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Job, JobLog
from shisho_jobs.enums import FINISHED_STATUSES, JobStatus, JobTrigger, LogLevel
from shisho_jobs.errors import (
    ActiveJobExists,
    InvalidJobInput,
    JobAlreadyFinished,
    JobNotFound,
    LibraryNotFound,
    UnknownJobType,
)
from shisho_jobs.queries import ACTIVE_ANY, ACTIVE_IN_SCOPE, ListShape, list_statements
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.retries import cancel_retry
from shisho_jobs.schema import MAX_ID, JobLogRow, JobRow, UTCDateTime, libraries_stub, utcnow

if TYPE_CHECKING:
    import pluggy

NOTIFY_CHANNEL: Final = "shisho_jobs"
"""PostgreSQL channel that carries a notification for every job event."""

EVENT_CREATED: Final = "job.created"
EVENT_STATUS_CHANGED: Final = "job.status_changed"
EVENT_PROGRESS: Final = "job.progress"
EVENT_SNAPSHOT: Final = "job.snapshot"
"""Never stored: event streams send it on a reconnect whose missed events can no longer be
replayed, once per recent job, with the job's current JSON."""

# Columns update_job() may write; everything else belongs to the service or the worker.
UPDATABLE_COLUMNS: Final = frozenset(
    {"status", "progress", "data", "process_id", "error", "started_at", "finished_at"}
)

# stalled_since and waiting only mean something in one status each; a stale value
# left by a status change never shows.
_IN_PROGRESS: Final = JobStatus.IN_PROGRESS.value
_PENDING: Final = JobStatus.PENDING.value

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
"""The outbox insert in the driver's own parameter style (see :func:`event_insert_params`).

Plain driver SQL, so the worker can run it on the driver's cursor in its hot path
and :meth:`JobService.record_event_on` runs exactly the same statement.
"""


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
    created_at = _timestamp_binder(dialect)(utcnow())
    encoded = msgspec.json.encode(job).decode() if job_json is None else job_json
    row = (created_at, job.id, job.library_id, event, encoded)
    if dialect.name == "postgresql":
        return (_EVENTS_LOCK_KEY, *row, NOTIFY_CHANNEL, f"{event} {job.id}")
    return row


def _timestamp_binder(dialect: sa.Dialect) -> Callable[[Any], Any]:
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


def _scope_lock_key(job_type: str) -> int:
    """A signed 32-bit advisory lock namespace for one job type."""
    return zlib.crc32(f"shisho_jobs:scope:{job_type}".encode()) - 2**31


@dataclass(frozen=True)
class ListJobsOptions:
    """Filters and paging for :meth:`JobService.list_jobs`. Every filter is optional."""

    limit: int | None = None
    """Page size, 1 to 100; default 10."""
    offset: int | None = None
    """Rows to skip, 0 or more."""
    statuses: Sequence[str] = ()
    """Only jobs in one of these statuses."""
    process_id_to_exclude: str | None = None
    """Leave out jobs claimed by this process."""
    type: str | None = None
    """Only jobs of this type."""
    library_id_or_global: int | None = None
    """Only jobs of this library and global jobs (``library_id IS NULL``)."""
    library_id: int | None = None
    """Only jobs of exactly this library."""
    visible_library_ids: Collection[int] | None = field(default=None)
    """Only global jobs and jobs of these libraries (``None``: no restriction)."""


class JobService:
    """Jobs in one database.

    Args:
        database: where the jobs live.
        job_types: the registered job types; by default those of
            :func:`shisho_jobs.plugins.get_plugin_manager`.
        plugin_manager: whose ``job_created`` hook observes new jobs.
    """

    def __init__(
        self,
        database: Database,
        *,
        job_types: JobTypeRegistry | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> None:
        self.database = database
        if job_types is None:
            from shisho_jobs.plugins import get_plugin_manager, job_type_registry

            plugin_manager = plugin_manager or get_plugin_manager()
            job_types = job_type_registry(plugin_manager)
        self.job_types = job_types
        self.plugin_manager = plugin_manager

    # --- creating -------------------------------------------------------------------------

    def create_job(
        self,
        job_type: str,
        data: Any = None,
        *,
        library_id: int | None = None,
        status: JobStatus | str = JobStatus.PENDING,
        trigger: JobTrigger | str = JobTrigger.MANUAL,
        retry_of: int | None = None,
    ) -> Job:
        """Create a job, atomically refusing a second active job of an exclusive type.

        For exclusive types (``scan``) the check and the insert are one atomic step
        across threads, processes and hosts: an active global job blocks every
        library's, any active job blocks a global one, different libraries never
        block each other.

        Args:
            job_type: a registered job type.
            data: the payload (its struct, a mapping, or ``None`` for defaults).
            library_id: the library, or ``None`` for a global job.
            status: normally ``pending``; other values are for imports and tests.
            trigger: what started the job (``manual``, ``watch``, ``schedule``, ``retry``).
            retry_of: the finished job this one runs again (with ``trigger="retry"``).

        Returns:
            The new job.

        Raises:
            UnknownJobType: ``job_type`` is not registered (field ``type``).
            InvalidJobInput: bad ``data``, ``library_id``, ``status``, ``trigger`` or
                ``retry_of``.
            LibraryNotFound: no library has ``library_id``.
            ActiveJobExists: an active job blocks this one; carries that job.
        """
        spec = self.job_types.get(job_type)
        payload = self.job_types.validate_payload(job_type, {} if data is None else data)
        status = _validate_status(status, "status")
        trigger = _validate_trigger(trigger)
        if library_id is not None:
            _validate_id(library_id, "library_id")
        if retry_of is not None:
            _validate_id(retry_of, "retry_of")
        active = status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)

        with self.database.write(notify=True) as session:
            if library_id is not None and not _library_exists(session, library_id):
                raise LibraryNotFound(library_id)
            if spec.exclusive and active:
                self._lock_scope(session, job_type, library_id)
                blocking = session.execute(
                    ACTIVE_ANY if library_id is None else ACTIVE_IN_SCOPE,
                    {"type": job_type, "library_id": library_id},
                ).first()
                if blocking is not None:
                    raise ActiveJobExists(self._to_job(blocking))
            now = utcnow()
            row = JobRow(
                created_at=now,
                updated_at=now,
                type=job_type,
                status=status.value,
                data=self.job_types.encode_payload(payload),
                progress=100 if status == JobStatus.COMPLETED else 0,
                library_id=library_id,
                finished_at=None if active else now,
                trigger=trigger.value,
                retry_of=retry_of,
            )
            session.add(row)
            try:
                session.flush()
            except sa.exc.IntegrityError:
                # The library was deleted between the check above and the insert.
                if library_id is None:
                    raise
                raise LibraryNotFound(library_id) from None
            job = self._to_job(row)
            self.record_event(session, job, EVENT_CREATED)
        if self.plugin_manager is not None:
            self.plugin_manager.hook.job_created(job=job)
        return job

    def start_or_join(
        self,
        job_type: str,
        data: Any = None,
        *,
        library_id: int | None = None,
        trigger: JobTrigger | str = JobTrigger.MANUAL,
        retry_of: int | None = None,
    ) -> tuple[Job, bool]:
        """Create a pending job, or return the active job that blocks it.

        Args:
            job_type: a registered job type.
            data: the payload (its struct, a mapping, or ``None`` for defaults).
            library_id: the library, or ``None`` for a global job.
            trigger: what starts the job (``manual``, ``watch``, ``schedule``, ``retry``);
                a joined job keeps its own.
            retry_of: the finished job this one runs again (with ``trigger="retry"``).

        Returns:
            ``(job, created)``: the new job and ``True``, or the blocking
            active job and ``False``.
        """
        try:
            job = self.create_job(
                job_type, data, library_id=library_id, trigger=trigger, retry_of=retry_of
            )
            return job, True
        except ActiveJobExists as exists:
            return exists.job, False

    def _lock_scope(self, session: Session, job_type: str, library_id: int | None) -> None:
        # SQLite: the write transaction already holds the database's write lock
        # (BEGIN IMMEDIATE). PostgreSQL: a global job takes its type's lock
        # exclusively; a library job takes it shared plus its library's lock
        # exclusively, so libraries never wait for each other. Locks are
        # transaction-scoped: the insert commits before anyone else looks.
        if self.database.dialect != "postgresql":
            return
        key = _scope_lock_key(job_type)
        if library_id is None:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(key, 0)))
        else:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(key, 0)))
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(key, library_id)))

    # --- reading --------------------------------------------------------------------------

    def retrieve_job(
        self, job_id: int, *, visible_library_ids: Collection[int] | None = None
    ) -> Job:
        """The job with this id.

        Args:
            job_id: the job's id.
            visible_library_ids: if given, a job of another library counts as absent.

        Raises:
            JobNotFound: no such job (or not visible).
        """
        if not isinstance(job_id, int) or not 1 <= job_id <= MAX_ID:
            raise JobNotFound(job_id)
        with self.database.read() as session:
            row = session.get(JobRow, job_id)
            if row is None or not _visible(row.library_id, visible_library_ids):
                raise JobNotFound(job_id)
            return self._to_job(row)

    def list_jobs(self, options: ListJobsOptions | None = None) -> list[Job]:
        """Jobs matching ``options``, newest first."""
        return self._list(options or ListJobsOptions(), with_total=False)[0]

    def list_jobs_with_total(self, options: ListJobsOptions | None = None) -> tuple[list[Job], int]:
        """One page of jobs matching ``options`` (newest first) and how many match in all."""
        return self._list(options or ListJobsOptions(), with_total=True)

    def has_active_job(self, job_type: str, library_id: int | None) -> bool:
        """Whether a job of ``job_type`` is pending or in progress for this scope.

        With a ``library_id``: an active job of that library or a global one.
        With ``None``: any active job of the type (the seed's semantics).

        Raises:
            UnknownJobType: ``job_type`` is not registered.
            InvalidJobInput: ``library_id`` is not a valid id.
        """
        self._require_type(job_type, "job_type")
        params: dict[str, Any] = {"type": job_type}
        statement = ACTIVE_ANY
        if library_id is not None:
            params["library_id"] = _validate_id(library_id, "library_id")
            statement = ACTIVE_IN_SCOPE
        with self.database.read_connection() as connection:
            return connection.execute(statement, params).first() is not None

    def _list(self, options: ListJobsOptions, *, with_total: bool) -> tuple[list[Job], int]:
        if options.type is not None:
            self._require_type(options.type, "type")
        shape, params = _list_plan(options)
        page, count = list_statements(shape)
        with self.database.read_connection() as connection:
            rows = connection.execute(page, params).all()
            total = int(connection.execute(count, params).scalar() or 0) if with_total else 0
        return [self._to_job(row) for row in rows], total

    def list_job_logs(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        levels: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[JobLog]:
        """Log lines of a job, oldest first.

        Args:
            job_id: the job.
            after_id: only lines with a larger id (for following a running job).
            levels: only lines of these levels.
            limit: at most this many lines.
        """
        query = sa.select(JobLogRow).where(JobLogRow.job_id == job_id)
        if after_id is not None:
            query = query.where(JobLogRow.id > after_id)
        if levels:
            query = query.where(JobLogRow.level.in_([_validate_level(lv) for lv in levels]))
        query = query.order_by(JobLogRow.id)
        if limit is not None:
            query = query.limit(limit)
        with self.database.read() as session:
            return [_to_log(row) for row in session.scalars(query)]

    def add_job_log(
        self,
        job_id: int,
        level: LogLevel | str,
        message: str,
        *,
        plugin: str | None = None,
        data: dict[str, Any] | None = None,
        stack_trace: str | None = None,
    ) -> JobLog:
        """Append a log line to a job.

        Raises:
            InvalidJobInput: an unknown ``level``.
            JobNotFound: the job does not exist (any more).
        """
        level = _validate_level(level)
        with self.database.write() as session:
            if session.get(JobRow, job_id) is None:
                raise JobNotFound(job_id)
            row = JobLogRow(
                created_at=utcnow(),
                job_id=job_id,
                level=level,
                message=message,
                plugin=plugin,
                data=None if data is None else msgspec.json.encode(data).decode(),
                stack_trace=stack_trace,
            )
            session.add(row)
            session.flush()
            return _to_log(row)

    # --- changing -------------------------------------------------------------------------

    def update_job(self, job: Job, *, columns: Sequence[str]) -> Job:
        """Write the named ``columns`` of ``job`` (the seed's ``UpdateJob``); bumps ``updated_at``.

        Emits ``job.status_changed`` when the status changes and ``job.progress``
        when only the progress does.

        Raises:
            InvalidJobInput: a column that may not be updated, or a bad value.
            JobNotFound: the job no longer exists.
        """
        unknown = [c for c in columns if c not in UPDATABLE_COLUMNS]
        if unknown:
            raise InvalidJobInput(
                "columns", f"cannot update {unknown}; allowed: {sorted(UPDATABLE_COLUMNS)}"
            )
        values: dict[str, Any] = {}
        for column in columns:
            value = getattr(job, column)
            if column == "status":
                value = _validate_status(value, "status").value
            elif column == "progress":
                value = _validate_progress(value)
            elif column == "data":
                value = self.job_types.encode_payload(
                    self.job_types.validate_payload(job.type, value)
                )
            values[column] = value
        with self.database.write(notify=True) as session:
            row = session.get(JobRow, job.id, with_for_update=True)
            if row is None:
                raise JobNotFound(job.id)
            old_status, old_progress = row.status, row.progress
            for column, value in values.items():
                setattr(row, column, value)
            now = utcnow()
            row.updated_at = now
            # Retention counts from finished_at: stamp it when the caller did not.
            if row.status != old_status and "finished_at" not in values:
                finished = row.status in {s.value for s in FINISHED_STATUSES}
                row.finished_at = now if finished else None
            session.flush()
            updated = self._to_job(row)
            if row.status != old_status:
                self.record_event(session, updated, EVENT_STATUS_CHANGED)
            elif row.progress != old_progress:
                self.record_event(session, updated, EVENT_PROGRESS)
            return updated

    def cancel_job(self, job_id: int, *, visible_library_ids: Collection[int] | None = None) -> Job:
        """Cancel a job: at once if pending, by asking its handler to stop if in progress.

        Asking twice changes nothing more. Each change emits ``job.status_changed``.

        Args:
            job_id: the job.
            visible_library_ids: if given, a job of another library counts as absent.

        Returns:
            The job: ``cancelled`` (it was pending), or ``in_progress`` with
            ``cancel_requested`` (it ends ``cancelled`` once its handler stops).

        Raises:
            JobNotFound: no such job (or not visible).
            JobAlreadyFinished: the job has finished already; carries it.
        """
        if not isinstance(job_id, int) or not 1 <= job_id <= MAX_ID:
            raise JobNotFound(job_id)
        finished_statuses = {status.value for status in FINISHED_STATUSES}
        with self.database.write_connection(notify=True) as connection:
            row = lock_job_row(connection, job_id)
            if row is None or not _visible(row.library_id, visible_library_ids):
                raise JobNotFound(job_id)
            if row.status in finished_statuses:
                raise JobAlreadyFinished(self._to_job(row))
            changed = cancel_locked_job(connection, row)
            if changed is None:
                return self._to_job(row)
            job = self._to_job(changed)
            self.record_event_on(connection, job, EVENT_STATUS_CHANGED)
        if self.plugin_manager is not None and job.status == JobStatus.CANCELLED:
            self.plugin_manager.hook.job_finished(job=job)
        return job

    def retry_job(self, job_id: int, *, visible_library_ids: Collection[int] | None = None) -> Job:
        """Start a finished job again (same type, data and library) through start-or-join.

        The new job has ``trigger: "retry"`` and ``retry_of`` naming this one; an
        automatic retry still due for this job is called off.

        Args:
            job_id: the finished job.
            visible_library_ids: if given, a job of another library counts as absent.

        Returns:
            The new pending job.

        Raises:
            JobNotFound: no such job (or not visible).
            ActiveJobExists: the job is still active, or an active job blocks the new
                one; carries that job.
        """
        original = self.retrieve_job(job_id, visible_library_ids=visible_library_ids)
        if original.is_active:
            raise ActiveJobExists(original)
        job = self.create_job(
            original.type,
            original.data,
            library_id=original.library_id,
            trigger=JobTrigger.RETRY,
            retry_of=original.id,
        )
        if original.retry_at is not None:
            with self.database.write_connection(notify=True) as connection:
                row = cancel_retry(connection, original.id)
                if row is not None:
                    self.record_event_on(connection, self._to_job(row), EVENT_STATUS_CHANGED)
        return job

    def cleanup_old_jobs(self, retention_days: float) -> int:
        """Delete finished jobs (and, by cascade, their logs and events) older than this.

        A job's age counts from when it finished. Active jobs are never deleted.

        Returns:
            How many jobs were deleted.
        """
        if isinstance(retention_days, bool) or not isinstance(retention_days, int | float):
            raise InvalidJobInput("retention_days", "must be a number of days")
        if retention_days < 0:
            raise InvalidJobInput("retention_days", "must be 0 or more")
        cutoff = utcnow() - timedelta(days=retention_days)
        finished = [s.value for s in FINISHED_STATUSES]
        with self.database.write() as session:
            result = session.execute(
                sa.delete(JobRow).where(
                    JobRow.status.in_(finished),
                    sa.func.coalesce(JobRow.finished_at, JobRow.updated_at) < cutoff,
                )
            )
            # CursorResult of a DELETE always carries rowcount.
            return int(getattr(result, "rowcount", 0) or 0)

    # --- events ---------------------------------------------------------------------------

    def record_event(self, session: Session, job: Job, event: str) -> None:
        """Append ``event`` for ``job`` to the outbox, inside the caller's write transaction.

        On PostgreSQL a transaction-scoped lock orders event ids by commit, so a
        reader that has seen event N has seen every event below N; and a
        ``NOTIFY`` wakes listeners when the transaction commits.
        """
        session.flush()  # the session's pending changes go first, as before the event
        self.record_event_on(session.connection(), job, event)

    def record_event_on(
        self, connection: Connection, job: Job, event: str, *, job_json: str | None = None
    ) -> None:
        """:meth:`record_event` on a Core connection inside its write transaction.

        One statement on either engine: on PostgreSQL it takes the events lock,
        inserts the row and queues the ``NOTIFY`` in a single round trip.

        Args:
            connection: a connection inside the caller's write transaction.
            job: the job as it is right after the change.
            event: ``job.created``, ``job.status_changed`` or ``job.progress``.
            job_json: ``job`` already encoded as JSON (saves encoding it twice).
        """
        dialect = connection.dialect
        params = event_insert_params(dialect, job, event, job_json)
        connection.exec_driver_sql(EVENT_INSERT_SQL[self.database.dialect], params)

    # --- conversion -----------------------------------------------------------------------

    def _to_job(self, row: JobRow | sa.Row[Any]) -> Job:
        return Job(
            id=row.id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            type=row.type,
            status=JobStatus(row.status),
            data=self.job_types.decode_payload(row.type, row.data),
            progress=row.progress,
            process_id=row.process_id,
            library_id=row.library_id,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
            attempt=row.attempt,
            trigger=JobTrigger(row.trigger),
            result=self.job_types.decode_result(row.type, row.result),
            warnings=row.warnings,
            cancel_requested=bool(row.cancel_requested),
            stalled_since=row.stalled_since if row.status == _IN_PROGRESS else None,
            waiting=row.waiting if row.status == _PENDING else None,
            retry_of=row.retry_of,
            retry_at=row.retry_at,
        )

    def _require_type(self, job_type: object, field: str) -> None:
        # Filtering on a type nobody registered is a typo, not an empty result.
        if not isinstance(job_type, str):
            raise InvalidJobInput(field, "must be a string")
        if job_type not in self.job_types:
            raise UnknownJobType(job_type, self.job_types.names, field=field)

    def to_job(self, row: JobRow) -> Job:
        """A :class:`Job` value from a ``jobs`` row (for the worker's own queries)."""
        return self._to_job(row)


# --- helpers ---------------------------------------------------------------------------------


def _to_log(row: JobLogRow) -> JobLog:
    return JobLog(
        id=row.id,
        created_at=row.created_at,
        job_id=row.job_id,
        level=row.level,
        message=row.message,
        plugin=row.plugin,
        data=None if row.data is None else msgspec.json.decode(row.data),
        stack_trace=row.stack_trace,
    )


def _validate_id(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidJobInput(field, f"expected an integer id, got {type(value).__name__}")
    if not 1 <= value <= MAX_ID:
        raise InvalidJobInput(field, f"must be between 1 and {MAX_ID}")
    return value


def _validate_status(value: object, field: str) -> JobStatus:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return JobStatus(value)
    except ValueError:
        raise InvalidJobInput(
            field, f"unknown status {value!r}; expected one of {[s.value for s in JobStatus]}"
        ) from None


def _validate_trigger(value: object) -> JobTrigger:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return JobTrigger(value)
    except ValueError:
        raise InvalidJobInput(
            "trigger",
            f"unknown trigger {value!r}; expected one of {[t.value for t in JobTrigger]}",
        ) from None


def _validate_level(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return LogLevel(value).value
    except ValueError:
        raise InvalidJobInput(
            "level", f"unknown level {value!r}; expected one of {[lv.value for lv in LogLevel]}"
        ) from None


def _validate_progress(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidJobInput("progress", "must be an integer from 0 to 100")
    return value


def _visible(library_id: int | None, visible: Collection[int] | None) -> bool:
    return visible is None or library_id is None or library_id in visible


def _library_exists(session: Session, library_id: int) -> bool:
    query = sa.select(libraries_stub.c.id).where(libraries_stub.c.id == library_id)
    return session.execute(query).first() is not None


def _list_plan(options: ListJobsOptions) -> tuple[ListShape, dict[str, Any]]:
    """Validate ``options``; the shape of their query and its parameter values."""
    limit = DEFAULT_LIST_LIMIT if options.limit is None else options.limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidJobInput("limit", f"must be an integer from 1 to {MAX_LIST_LIMIT}")
    offset = 0 if options.offset is None else options.offset
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_ID:
        raise InvalidJobInput("offset", "must be an integer, 0 or more")
    if isinstance(options.statuses, str):
        raise InvalidJobInput("statuses", "must be a list of statuses, not a string")
    statuses = [_validate_status(s, "statuses").value for s in options.statuses]
    if options.type is not None and not isinstance(options.type, str):
        raise InvalidJobInput("type", "must be a string")

    params: dict[str, Any] = {"limit": limit, "offset": offset, "window": limit + offset}
    if statuses:
        params["statuses"] = statuses
    if options.process_id_to_exclude is not None:
        params["process_id"] = options.process_id_to_exclude
    if options.type is not None:
        params["type"] = options.type
    if options.library_id is not None:
        params["library_id"] = _validate_id(options.library_id, "library_id")
    if options.visible_library_ids is not None:
        params["visible"] = sorted(options.visible_library_ids)
    if options.library_id_or_global is not None:
        params["scope_library_id"] = _validate_id(
            options.library_id_or_global, "library_id_or_global"
        )
    shape = ListShape(
        statuses="statuses" in params,
        exclude_process="process_id" in params,
        type="type" in params,
        library_id="library_id" in params,
        visible="visible" in params,
        scoped="scope_library_id" in params,
    )
    return shape, params
