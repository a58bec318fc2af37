"""The log lines of jobs (``job_logs``): reading them, and adding one from outside a worker.

A running job's own lines are written by the worker, fenced by its claim
(:mod:`shisho_jobs.worker.store`); these are for everyone else.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from shisho_jobs.clock import now_on
from shisho_jobs.db import Database
from shisho_jobs.dto import JobLog
from shisho_jobs.enums import LogLevel
from shisho_jobs.errors import JobNotFound
from shisho_jobs.rows import log_from_row
from shisho_jobs.schema import JobLogRow, JobRow
from shisho_jobs.validation import require_level
from shisho_jobs.visibility import log_visible_sql, shown_log


class JobLogs:
    """Log lines of the jobs in one database (part of :class:`~shisho_jobs.service.JobService`).

    Args:
        database: where the jobs live.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def list_job_logs(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        levels: Sequence[str] = (),
        limit: int | None = None,
        visible_library_ids: Collection[int] | None = None,
    ) -> list[JobLog]:
        """Log lines of a job, oldest first.

        Args:
            job_id: the job.
            after_id: only lines with a larger id (for following a running job).
            levels: only lines of these levels.
            limit: at most this many lines.
            visible_library_ids: the reader's libraries (``None``: every library): only the
                lines it may receive, as it may receive them (:mod:`shisho_jobs.visibility`).
                The caller has checked that the reader may see the job itself.
        """
        return self.page_job_logs(
            job_id,
            after_id=after_id,
            levels=levels,
            limit=limit,
            visible_library_ids=visible_library_ids,
        )[0]

    def page_job_logs(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        levels: Sequence[str] = (),
        limit: int | None = None,
        visible_library_ids: Collection[int] | None = None,
    ) -> tuple[list[JobLog], bool]:
        """Like :meth:`list_job_logs`, and whether more lines follow the last one.

        Returns:
            The lines, oldest first, and ``True`` when the reader has more after them
            (only ever with a ``limit``).
        """
        query = sa.select(JobLogRow).where(JobLogRow.job_id == job_id)
        if after_id is not None:
            query = query.where(JobLogRow.id > after_id)
        if levels:
            query = query.where(JobLogRow.level.in_([require_level(lv) for lv in levels]))
        query = query.where(*log_visible_sql(JobLogRow.library_id, visible_library_ids))
        query = query.order_by(JobLogRow.id)
        if limit is not None:
            query = query.limit(limit + 1)  # one more tells whether there is more
        with self.database.read() as session:
            rows = list(session.scalars(query))
        more = limit is not None and len(rows) > limit
        lines = rows[:limit] if more else rows
        return [shown_log(log_from_row(row), visible_library_ids) for row in lines], more

    def add_job_log(
        self,
        job_id: int,
        level: LogLevel | str,
        message: str,
        *,
        plugin: str | None = None,
        data: dict[str, Any] | None = None,
        stack_trace: str | None = None,
        library_id: int | None = None,
    ) -> JobLog:
        """Append a log line to a job.

        ``library_id`` is the library the line is about (see
        :meth:`shisho_jobs.context.JobLogger.about`).

        Raises:
            InvalidJobInput: an unknown ``level``.
            JobNotFound: the job does not exist (any more).
        """
        level = require_level(level)
        with self.database.write() as session:
            if session.get(JobRow, job_id) is None:
                raise JobNotFound(job_id)
            row = JobLogRow(
                created_at=now_on(session.connection()),
                job_id=job_id,
                level=level,
                message=message,
                plugin=plugin,
                data=None if data is None else msgspec.json.encode(data).decode(),
                stack_trace=stack_trace,
                library_id=library_id,
            )
            session.add(row)
            session.flush()
            return log_from_row(row)
