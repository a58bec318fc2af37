"""Automatic retries: start the due retries of failed jobs, through start-or-join.

A failed run of a type with ``max_attempts`` > 1 got ``retry_at`` when it failed (see
:mod:`shisho_jobs.retries`). This duty takes the due ones (clearing ``retry_at`` in one
statement, so two workers never take the same one) and starts each again with
``trigger: "retry"``; an active job that blocks it is joined instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shisho_jobs.changes import announce_changed
from shisho_jobs.db import Database
from shisho_jobs.enums import JobTrigger
from shisho_jobs.errors import ShishoJobsError
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.retries import has_due_retries, take_due_retries
from shisho_jobs.service import JobService

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class RetryFailedJobs:
    """Start the automatic retries that are due.

    Args:
        service: starts each retry (start-or-join).
        database: where the jobs live.
        job_types: decodes the failed jobs' payloads.
        interval: seconds between two looks.
    """

    service: JobService
    database: Database
    job_types: JobTypeRegistry
    interval: float
    name: str = "automatic retries"

    def run(self) -> None:
        """Start every due retry."""
        with self.database.read_connection() as connection:
            if not has_due_retries(connection):
                return
        with self.database.write_connection(notify=True) as connection:
            failed = announce_changed(connection, take_due_retries(connection), self.job_types)
        # After the commit: whoever cleared retry_at owns the retry. Lost if this process
        # dies right here, which shows as a failed job without retry_at: the truth.
        for job in failed:
            try:
                retry, created = self.service.start_or_join(
                    job.type,
                    job.data,
                    library_id=job.library_id,
                    trigger=JobTrigger.RETRY,
                    retry_of=job.id,
                )
            except ShishoJobsError as error:
                _logger.warning("could not retry job %s: %s", job.id, error.message)
                continue
            if created:
                _logger.info("job %s failed; retrying it as job %s", job.id, retry.id)
            else:
                _logger.info("job %s failed; its retry joins active job %s", job.id, retry.id)
