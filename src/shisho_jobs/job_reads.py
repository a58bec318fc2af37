"""The service's reads of jobs: one job, a page of jobs, whether one is active; the workers.

:class:`~shisho_jobs.service.JobService` adds the writes (create, start or join, update,
cancel, retry, clean up) to these. Every method runs its own short read transaction, and
a reader given ``visible_library_ids`` sees only what :mod:`shisho_jobs.visibility` lets it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.errors import InvalidJobInput, JobNotFound, UnknownJobType
from shisho_jobs.filters import ListJobsFilter, ListJobsOptions, validated
from shisho_jobs.job_logs import JobLogs
from shisho_jobs.queries import ACTIVE_ANY, ACTIVE_IN_SCOPE, list_shape_and_params, list_statements
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row
from shisho_jobs.schema import MAX_ID, JobRow
from shisho_jobs.validation import require_id
from shisho_jobs.visibility import can_see, shown_job
from shisho_jobs.watch.health import WatchHealth
from shisho_jobs.watch.health_store import list_watch_health
from shisho_jobs.workers import WorkerInfo, list_live_workers


class JobReads(JobLogs):
    """Reads of the jobs in one database (their log lines: :class:`~shisho_jobs.job_logs.JobLogs`).

    Args:
        database: where the jobs live.
        job_types: the registered job types (decode payloads, check type filters).
    """

    def __init__(self, database: Database, job_types: JobTypeRegistry) -> None:
        super().__init__(database)
        self.job_types = job_types

    @property
    def job_type_names(self) -> list[str]:
        """The registered job types, sorted."""
        return self.job_types.names

    def knows_job_type(self, job_type: str) -> bool:
        """Whether ``job_type`` is registered (a type filter on anything else is a typo)."""
        return job_type in self.job_types

    # --- reading --------------------------------------------------------------------------

    def retrieve_job(
        self, job_id: int, *, visible_library_ids: Collection[int] | None = None
    ) -> Job:
        """The job with this id.

        Args:
            job_id: the job's id.
            visible_library_ids: the reader's libraries, if given: a job of another library
                counts as absent, and the job is as that reader may receive it
                (:func:`shisho_jobs.visibility.shown_job`).

        Raises:
            JobNotFound: no such job (or not visible).
        """
        if not isinstance(job_id, int) or not 1 <= job_id <= MAX_ID:
            raise JobNotFound(job_id)
        with self.database.read() as session:
            row = session.get(JobRow, job_id)
            if row is None or not can_see(visible_library_ids, row.library_id):
                raise JobNotFound(job_id)
            return shown_job(self._to_job(row), visible_library_ids)

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
        visible = checked.visible_library_ids
        return [shown_job(self._to_job(row), visible) for row in rows], total

    # --- workers -----------------------------------------------------------------------------

    def list_workers(self) -> list[WorkerInfo]:
        """The live workers (rows not expired), oldest first."""
        with self.database.read_connection() as connection:
            return list_live_workers(connection)

    def list_watchers(
        self, *, visible_library_ids: Collection[int] | None = None
    ) -> list[WatchHealth]:
        """How the live workers watch the library folders, by library then worker.

        Args:
            visible_library_ids: the libraries the reader may see; ``None``: all.
        """
        return list_watch_health(self.database, visible_library_ids=visible_library_ids)

    # --- conversion -----------------------------------------------------------------------

    def _to_job(self, row: JobRow | sa.Row[Any]) -> Job:
        return job_from_row(row, self.job_types)

    def _require_type(self, job_type: object, field: str) -> None:
        # Filtering on a type nobody registered is a typo, not an empty result.
        if not isinstance(job_type, str):
            raise InvalidJobInput(field, "must be a string")
        if job_type not in self.job_types:
            raise UnknownJobType(job_type, self.job_types.names, field=field)
