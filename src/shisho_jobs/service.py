"""JobService: create, find, list, update and prune jobs (the seed's Go service, in Python).

Synchronous and framework-free. Every method runs its own short transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shisho_jobs.cancel import cancel_job
from shisho_jobs.clock import now_on
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.enums import FINISHED_STATUSES, JobStatus, JobTrigger
from shisho_jobs.errors import (
    ActiveJobExists,
    InvalidJobInput,
    JobNotFound,
    LibraryNotFound,
    RecentJobExists,
)
from shisho_jobs.job_reads import JobReads
from shisho_jobs.outbox import (
    EVENT_CREATED,
    EVENT_PROGRESS,
    EVENT_STATUS_CHANGED,
    Outbox,
    record_event,
)
from shisho_jobs.plugins import get_plugin_manager, job_type_registry
from shisho_jobs.queries import ACTIVE_ANY, ACTIVE_IN_SCOPE
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.retries import cancel_retry
from shisho_jobs.schema import JobRow, libraries_stub
from shisho_jobs.scope_lock import lock_scope, recent_job
from shisho_jobs.validation import require_id, require_progress, require_status, require_trigger
from shisho_jobs.waiting import refresh_waiting_of_pending_jobs
from shisho_jobs.workers import live_workers

if TYPE_CHECKING:
    import pluggy

# Columns update_job() may write; everything else belongs to the service or the worker.
UPDATABLE_COLUMNS: Final = frozenset(
    {"status", "progress", "data", "process_id", "error", "started_at", "finished_at"}
)


class JobService(JobReads):
    """Jobs in one database: the writes here, the reads of its base classes.

    The reads are :class:`~shisho_jobs.job_reads.JobReads`, the log lines
    :class:`~shisho_jobs.job_logs.JobLogs`.

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
        if job_types is None:
            plugin_manager = plugin_manager or get_plugin_manager()
            job_types = job_type_registry(plugin_manager)
        super().__init__(database, job_types)
        self.plugin_manager = plugin_manager
        self.outbox = Outbox(database)
        """The ``job_events`` outbox of this database (what live streams read)."""

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
        unless_created_within: float | None = None,
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
            unless_created_within: seconds; refuse when a job of this type and trigger was
                created that recently for this scope (a library's: the library or global),
                by the database's clock, checked under the scope's lock (schedules: once
                per interval across every worker and host).

        Returns:
            The new job.

        Raises:
            UnknownJobType: ``job_type`` is not registered (field ``type``).
            InvalidJobInput: bad ``data``, ``library_id``, ``status``, ``trigger`` or
                ``retry_of``.
            LibraryNotFound: no library has ``library_id``.
            ActiveJobExists: an active job blocks this one; carries that job.
            RecentJobExists: ``unless_created_within`` found a recent job; carries it.
        """
        spec = self.job_types.get(job_type)
        payload = self.job_types.validate_payload(job_type, {} if data is None else data)
        status = require_status(status, "status")
        trigger = require_trigger(trigger)
        if library_id is not None:
            require_id(library_id, "library_id")
        if retry_of is not None:
            require_id(retry_of, "retry_of")
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
            if unless_created_within is not None:
                recent = recent_job(session, job_type, library_id, trigger, unless_created_within)
                if recent is not None:
                    raise RecentJobExists(self._to_job(recent))
            now = now_on(session.connection())
            # Read in the same transaction: a worker registering meanwhile refreshes it.
            waiting = (
                live_workers(session.connection()).waiting_reason(job_type)
                if status == JobStatus.PENDING
                else None
            )
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
                waiting=waiting,
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
        self,
        job_type: str,
        data: Any = None,
        *,
        library_id: int | None = None,
        trigger: JobTrigger | str = JobTrigger.MANUAL,
        retry_of: int | None = None,
        unless_created_within: float | None = None,
    ) -> tuple[Job, bool]:
        """Create a pending job, or return the active job that blocks it.

        Args:
            job_type: a registered job type.
            data: the payload (its struct, a mapping, or ``None`` for defaults).
            library_id: the library, or ``None`` for a global job.
            trigger: what starts the job (``manual``, ``watch``, ``schedule``, ``retry``);
                a joined job keeps its own.
            retry_of: the finished job this one runs again (with ``trigger="retry"``).
            unless_created_within: see :meth:`create_job`; the recent job is returned.

        Returns:
            ``(job, created)``: the new job and ``True``, or the blocking
            active (or recent) job and ``False``.
        """
        try:
            job = self.create_job(
                job_type,
                data,
                library_id=library_id,
                trigger=trigger,
                retry_of=retry_of,
                unless_created_within=unless_created_within,
            )
            return job, True
        except (ActiveJobExists, RecentJobExists) as exists:
            return exists.job, False

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
            now = now_on(session.connection())
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
        job, changed = cancel_job(self.database, self.job_types, job_id, visible_library_ids)
        if changed and self.plugin_manager is not None and job.status == JobStatus.CANCELLED:
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
                    record_event(connection, self._to_job(row), EVENT_STATUS_CHANGED)
        return job

    # --- upkeep -----------------------------------------------------------------------------

    def refresh_waiting(self) -> list[Job]:
        """Delete expired worker rows; bring every pending job's ``waiting`` in line.

        Cheap when nothing changed (two small reads, no write). Run by every worker and
        by web hosts on a timer, so a job says "No worker is running." by itself once the
        last worker is gone. Each changed job emits ``job.status_changed``.

        Returns:
            The pending jobs whose ``waiting`` changed.
        """
        return refresh_waiting_of_pending_jobs(self.database, self.job_types)

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
        finished = [s.value for s in FINISHED_STATUSES]
        with self.database.write() as session:
            cutoff = now_on(session.connection()) - timedelta(days=retention_days)
            result = session.execute(
                sa.delete(JobRow).where(
                    JobRow.status.in_(finished),
                    sa.func.coalesce(JobRow.finished_at, JobRow.updated_at) < cutoff,
                )
            )
            # CursorResult of a DELETE always carries rowcount.
            return int(getattr(result, "rowcount", 0) or 0)


# --- helpers ---------------------------------------------------------------------------------


def _record_event(session: Session, job: Job, event: str) -> None:
    # The session's pending changes go first, as before the event.
    session.flush()
    record_event(session.connection(), job, event)


def _library_exists(session: Session, library_id: int) -> bool:
    query = sa.select(libraries_stub.c.id).where(libraries_stub.c.id == library_id)
    return session.execute(query).first() is not None
