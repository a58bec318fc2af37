"""Hard limits: a run still going past its job type's ``timeout`` fails, with the reason.

The handler may ignore cancellation: the failure is written by this duty, on the
database's clock, and fences the run out (its late writes match no row). The worker
that runs it learns at its next heartbeat that the job is no longer its own, and its
``context.cancelled`` turns true.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from shisho_jobs.changes import announce_changed
from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.worker.stalls import fail_timed_out_jobs, has_timed_out_jobs

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class StopTimedOutJobs:
    """Fail running jobs past their type's hard time limit.

    Args:
        database: where the jobs live.
        job_types: the limit of each type that has one (``JobTypeSpec.timeout``).
        interval: seconds between two looks.
        on_stopped: called with each job it failed.
    """

    database: Database
    job_types: JobTypeRegistry
    interval: float
    on_stopped: Callable[[Job], None] | None = None
    name: str = "hard limits"
    _timeouts: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        specs = (self.job_types.get(name) for name in self.job_types.names)
        self._timeouts = {spec.name: spec.timeout for spec in specs if spec.timeout is not None}

    @property
    def has_limits(self) -> bool:
        """Whether any job type has a hard limit (otherwise the duty has nothing to do)."""
        return bool(self._timeouts)

    def run(self) -> None:
        """Fail the runs past their limit, each with its error line and event."""
        if not self._timeouts:
            return
        with self.database.read_connection() as connection:
            if not has_timed_out_jobs(connection, timeouts=self._timeouts):
                return
        with self.database.write_connection(notify=True) as connection:
            rows = fail_timed_out_jobs(connection, timeouts=self._timeouts)
            jobs = announce_changed(connection, rows, self.job_types)
        for job in jobs:
            _logger.warning("job %s: %s", job.id, job.error)
            if self.on_stopped is not None:
                self.on_stopped(job)
