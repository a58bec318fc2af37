"""Keeping pending jobs' ``waiting`` true: expire dead workers' rows, refresh every pending job.

Run by every worker (its presence duty) and by web hosts on a timer
(:class:`~shisho_jobs.waiting_watch.WaitingWatch`), so a job says "No worker is running."
by itself once the last worker is gone, and stops saying it when one starts.
"""

from __future__ import annotations

import logging

from shisho_jobs.changes import announce_changed
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.workers import (
    delete_expired_workers,
    has_expired_workers,
    live_workers,
    refresh_waiting,
    waiting_is_stale,
)

_logger = logging.getLogger("shisho_jobs")


def refresh_waiting_of_pending_jobs(database: Database, job_types: JobTypeRegistry) -> list[Job]:
    """Delete expired worker rows; bring every pending job's ``waiting`` in line.

    Cheap when nothing changed (two small reads, no write). Each changed job emits
    ``job.status_changed`` in the transaction that changed it.

    Returns:
        The pending jobs whose ``waiting`` changed.
    """
    with database.read_connection() as connection:
        stale = has_expired_workers(connection) or waiting_is_stale(
            connection, live_workers(connection)
        )
    if not stale:
        return []
    with database.write_connection(notify=True) as connection:
        gone = delete_expired_workers(connection)
        rows = refresh_waiting(connection, live_workers(connection))
        jobs = announce_changed(connection, rows, job_types)
    if gone:
        _logger.warning("workers %s stopped heartbeating; their rows expired", gone)
    return jobs
