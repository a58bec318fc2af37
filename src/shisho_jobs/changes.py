"""Rows a statement changed, as jobs, each announced in the outbox of the same transaction.

Maintenance statements (stalls, hard limits, waiting, retries) change many jobs at once
with ``UPDATE ... RETURNING``; every change of a job's JSON reaches the live streams as a
``job.status_changed`` event written in the transaction that made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from shisho_jobs.dto import Job
from shisho_jobs.outbox import EVENT_STATUS_CHANGED, record_event
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.rows import job_from_row


def announce_changed(
    connection: Connection,
    rows: Iterable[Any],
    job_types: JobTypeRegistry,
    *,
    event: str = EVENT_STATUS_CHANGED,
) -> list[Job]:
    """The changed ``jobs`` rows as jobs, each with its ``event`` in the outbox.

    Args:
        connection: the connection of the write transaction that changed them.
        rows: the changed rows (every ``jobs`` column), as ``RETURNING`` gave them.
        job_types: decodes their payloads and results.
        event: the event to record (a change of anything but progress is ``job.status_changed``).
    """
    jobs = [job_from_row(row, job_types) for row in rows]
    for job in jobs:
        record_event(connection, job, event)
    return jobs
