"""The periodic global scan: enqueue one when the last is older than the interval."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from shisho_jobs.enums import JobType
from shisho_jobs.schema import utcnow
from shisho_jobs.service import JobService
from shisho_jobs.worker.store import WorkerStore

SCAN_CHECK_INTERVAL: Final = 60.0  # seconds between two "is a global scan due?" checks

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class PeriodicGlobalScan:
    """Enqueue a global scan once ``scan_interval`` seconds passed since the last one.

    The age is read from the database (the newest global scan's ``created_at``), so
    several workers, on several hosts, agree without talking to each other.

    Args:
        service: creates the scan (never a second active one: an active scan is joined).
        store: reads when the last global scan was created.
        scan_interval: seconds between two global scans.
    """

    service: JobService
    store: WorkerStore
    scan_interval: float
    name: str = "global scan"
    interval: float = field(init=False)
    """How often to check: the scan interval, but at least every minute."""

    def __post_init__(self) -> None:
        self.interval = min(self.scan_interval, SCAN_CHECK_INTERVAL)

    def run(self) -> None:
        """Enqueue a global scan if one is due."""
        last = self.store.last_global_job_created_at(JobType.SCAN.value)
        if last is not None and utcnow() - last < timedelta(seconds=self.scan_interval):
            return
        # start_or_join never creates a second active scan: an active scan of any
        # scope is joined instead, and this check runs again later.
        job, created = self.service.start_or_join(JobType.SCAN.value, library_id=None)
        if created:
            _logger.info("enqueued periodic global scan %s", job.id)
