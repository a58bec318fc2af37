"""The log lines of jobs (``job_logs``): reading them, and adding one from outside a worker.

A running job's own lines are written by the worker, fenced by its claim
(:mod:`shisho_jobs.worker.store`); these are for everyone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.dto import JobLog
from shisho_jobs.enums import LogLevel
from shisho_jobs.errors import JobNotFound
from shisho_jobs.rows import log_from_row
from shisho_jobs.schema import JobLogRow, JobRow, utcnow
from shisho_jobs.validation import require_level


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
            query = query.where(JobLogRow.level.in_([require_level(lv) for lv in levels]))
        query = query.order_by(JobLogRow.id)
        if limit is not None:
            query = query.limit(limit)
        with self.database.read() as session:
            return [log_from_row(row) for row in session.scalars(query)]

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
        level = require_level(level)
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
            return log_from_row(row)
