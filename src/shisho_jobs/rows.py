"""From database rows to the values the API hands out (:class:`Job`, :class:`JobLog`)."""

from __future__ import annotations

from typing import Any

import msgspec

from shisho_jobs.dto import Job, JobLog
from shisho_jobs.enums import JobStatus
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.schema import JobLogRow


def job_from_row(row: Any, job_types: JobTypeRegistry) -> Job:
    """A :class:`Job` from any row with an attribute per ``jobs`` column.

    Args:
        row: an ORM ``JobRow``, a Core row of every ``jobs`` column, or the worker
            store's record of one.
        job_types: decodes the row's payload into its type's struct.
    """
    return Job(
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        type=row.type,
        status=JobStatus(row.status),
        data=job_types.decode_payload(row.type, row.data),
        progress=row.progress,
        process_id=row.process_id,
        library_id=row.library_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        attempt=row.attempt,
    )


def log_from_row(row: JobLogRow) -> JobLog:
    """A :class:`JobLog` from a ``job_logs`` row."""
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
