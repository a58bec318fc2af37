"""Rescue: take back in-progress jobs whose worker stopped renewing its lease."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shisho_jobs.dto import Job
from shisho_jobs.worker.store import MAX_CRASHES, WorkerStore

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class RescueExpiredLeases:
    """Re-queue (or fail, after ``max_crashes`` losses) jobs whose lease expired.

    Args:
        store: the worker's store.
        lease_seconds: how long a claim holds without a heartbeat.
        interval: seconds between two looks (the worker's poll interval).
        max_crashes: lost workers a job survives before it fails as "worker lost".
        on_rescued: called with each rescued job in its new state.
    """

    store: WorkerStore
    lease_seconds: float
    interval: float
    max_crashes: int = MAX_CRASHES
    on_rescued: Callable[[Job], None] | None = None
    name: str = "rescue"

    def run(self) -> None:
        """Rescue every job whose lease has expired now."""
        for job in self.store.rescue_expired(
            lease_seconds=self.lease_seconds, max_crashes=self.max_crashes
        ):
            _logger.warning("job %s lost its worker; now %s", job.id, job.status)
            if self.on_rescued is not None:
                self.on_rescued(job)
