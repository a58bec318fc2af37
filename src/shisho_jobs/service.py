"""JobService: create, find, list, update and prune jobs (the seed's Go service, in Python).

Synchronous and framework-free. Every method runs its own short transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.enums import FINISHED_STATUSES, JobStatus
from shisho_jobs.errors import (
    ActiveJobExists,
    InvalidJobInput,
    JobNotFound,
    LibraryNotFound,
    UnknownJobType,
)
from shisho_jobs.filters import ListJobsFilter, ListJobsOptions, validated
from shisho_jobs.job_logs import JobLogs
from shisho_jobs.outbox import (
    EVENT_CREATED,
    EVENT_PROGRESS,
    EVENT_STATUS_CHANGED,
    Outbox,
    record_event,
)
from shisho_jobs.plugins import get_plugin_manager, job_type_registry
from shisho_jobs.queries import ACTIVE_ANY, ACTIVE_IN_SCOPE, list_shape_and_params, list_statements
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import MAX_ID, JobRow, libraries_stub, utcnow
from shisho_jobs.scope_lock import lock_scope
from shisho_jobs.validation import require_id, require_progress, require_status
from shisho_jobs.visibility import can_see

if TYPE_CHECKING:
    import pluggy

# Columns update_job() may write; everything else belongs to the service or the worker.
UPDATABLE_COLUMNS: Final = frozenset(
    {"status", "progress", "data", "process_id", "error", "started_at", "finished_at"}
)


class JobService(JobLogs):
    """Jobs in one database (their log lines: see :class:`~shisho_jobs.job_logs.JobLogs`).

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
        super().__init__(database)
        if job_types is None:
            plugin_manager = plugin_manager or get_plugin_manager()
            job_types = job_type_registry(plugin_manager)
        self.job_types = job_types
        self.plugin_manager = plugin_manager
        self.outbox = Outbox(database)
        """The ``job_events`` outbox of this database (what live streams read)."""

    @property
    def job_type_names(self) -> list[str]:
        """The registered job types, sorted."""
        return self.job_types.names

    def knows_job_type(self, job_type: str) -> bool:
        """Whether ``job_type`` is registered (a type filter on anything else is a typo)."""
        return job_type in self.job_types

    # --- creating -------------------------------------------------------------------------

    def create_job(
        self,
        job_type: str,
        data: Any = None,
        *,
        library_id: int | None = None,
        status: JobStatus | str = JobStatus.PENDING,
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

        Returns:
            The new job.

        Raises:
            UnknownJobType: ``job_type`` is not registered (field ``type``).
            InvalidJobInput: bad ``data``, ``library_id`` or ``status``.
            LibraryNotFound: no library has ``library_id``.
            ActiveJobExists: an active job blocks this one; carries that job.
        """
        spec = self.job_types.get(job_type)
        payload = self.job_types.validate_payload(job_type, {} if data is None else data)
        status = require_status(status, "status")
        if library_id is not None:
            require_id(library_id, "library_id")
        active = status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)

        with self.database.write(notify=True) as session:
            if library_id is not None and not _library_exists(session, library_id):
                raise LibraryNotFound(library_id)
            if spec.exclusive and active:
                lock_scope(session, job_type, library_id)
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
            _record_event(session, job, EVENT_CREATED)
        if self.plugin_manager is not None:
            self.plugin_manager.hook.job_created(job=job)
        return job

    def start_or_join(
        self, job_type: str, data: Any = None, *, library_id: int | None = None
    ) -> tuple[Job, bool]:
        """Create a pending job, or return the active job that blocks it.

        Returns:
            ``(job, created)``: the new job and ``True``, or the blocking
            active job and ``False``.
        """
        try:
            return self.create_job(job_type, data, library_id=library_id), True
        except ActiveJobExists as exists:
            return exists.job, False

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
            if row is None or not can_see(visible_library_ids, row.library_id):
                raise JobNotFound(job_id)
            return self._to_job(row)

    def list_jobs(self, options: ListJobsOptions | ListJobsFilter | None = None) -> list[Job]:
        """Jobs matching ``options``, newest first.

        Raises:
            InvalidJobInput: a bad option (named); ``UnknownJobType`` for an unknown type.
        """
        return self._list(options or ListJobsOptions(), with_total=False)[0]

    def list_jobs_with_total(
        self, options: ListJobsOptions | ListJobsFilter | None = None
    ) -> tuple[list[Job], int]:
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
            params["library_id"] = require_id(library_id, "library_id")
            statement = ACTIVE_IN_SCOPE
        with self.database.read_connection() as connection:
            return connection.execute(statement, params).first() is not None

    def _list(
        self, options: ListJobsOptions | ListJobsFilter, *, with_total: bool
    ) -> tuple[list[Job], int]:
        checked = validated(options)
        if checked.type is not None:
            self._require_type(checked.type, "type")
        shape, params = list_shape_and_params(checked)
        page, count = list_statements(shape)
        with self.database.read_connection() as connection:
            rows = connection.execute(page, params).all()
            total = int(connection.execute(count, params).scalar() or 0) if with_total else 0
        return [self._to_job(row) for row in rows], total

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
                value = require_status(value, "status").value
            elif column == "progress":
                value = require_progress(value)
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
                _record_event(session, updated, EVENT_STATUS_CHANGED)
            elif row.progress != old_progress:
                _record_event(session, updated, EVENT_PROGRESS)
            return updated

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

    # --- conversion -----------------------------------------------------------------------

    def _to_job(self, row: JobRow | sa.Row[Any]) -> Job:
        return job_from_row(row, self.job_types)

    def _require_type(self, job_type: object, field: str) -> None:
        # Filtering on a type nobody registered is a typo, not an empty result.
        if not isinstance(job_type, str):
            raise InvalidJobInput(field, "must be a string")
        if job_type not in self.job_types:
            raise UnknownJobType(job_type, self.job_types.names, field=field)


# --- helpers ---------------------------------------------------------------------------------


def _record_event(session: Session, job: Job, event: str) -> None:
    # The session's pending changes go first, as before the event.
    session.flush()
    record_event(session.connection(), job, event)


def _library_exists(session: Session, library_id: int) -> bool:
    query = sa.select(libraries_stub.c.id).where(libraries_stub.c.id == library_id)
    return session.execute(query).first() is not None
