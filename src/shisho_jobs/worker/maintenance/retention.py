"""Retention: delete finished jobs (with their logs and events) and old outbox rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from shisho_jobs.outbox import Outbox
from shisho_jobs.service import JobService

PRUNE_INTERVAL: Final = 3600.0  # seconds between two retention passes
EVENT_RETENTION: Final = 86400.0  # seconds job_events outbox rows are kept

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class Retention:
    """Delete jobs finished over ``retention_days`` ago, and outbox rows older than a day.

    Args:
        service: the jobs (its ``cleanup_old_jobs``).
        outbox: the outbox to prune.
        retention_days: age of the finished jobs to delete, counted from when they finished.
        event_retention: seconds outbox rows are kept (live streams only need recent ones).
        interval: seconds between two passes.
    """

    service: JobService
    outbox: Outbox
    retention_days: float
    event_retention: float = EVENT_RETENTION
    interval: float = PRUNE_INTERVAL
    name: str = "retention"

    def run(self) -> None:
        """One retention pass."""
        deleted = self.service.cleanup_old_jobs(self.retention_days)
        self.outbox.prune(older_than_seconds=self.event_retention)
        if deleted:
            _logger.info("deleted %d jobs finished over %s days ago", deleted, self.retention_days)
