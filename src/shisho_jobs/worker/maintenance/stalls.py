"""Stall watch: running jobs that made no progress for their stall time get ``stalled_since``.

A heartbeat says the worker lives; only progress says the work moves. A stalled job
stays in progress (its next progress clears the mark); a user sees "Scan stalled" and
may cancel it. Any worker may run this duty: each job is marked once, by the
statement that changes it (see :mod:`shisho_jobs.worker.stalls`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shisho_jobs.changes import announce_changed
from shisho_jobs.db import Database
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.worker.stalls import flag_stalled_jobs, has_stalled_jobs

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class FlagStalledJobs:
    """Mark running jobs without progress for their type's stall time.

    Args:
        database: where the jobs live.
        job_types: the stall time of each type that sets one (``JobTypeSpec.stall_seconds``).
        default_seconds: the stall time of the other types (``SHISHO_STALL_SECONDS``).
        interval: seconds between two looks.
    """

    database: Database
    job_types: JobTypeRegistry
    default_seconds: float
    interval: float
    name: str = "stall watch"
    _per_type: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        specs = (self.job_types.get(name) for name in self.job_types.names)
        self._per_type = {
            spec.name: spec.stall_seconds for spec in specs if spec.stall_seconds is not None
        }

    def run(self) -> None:
        """Mark the jobs that stalled since the last look, each with its event."""
        default, per_type = self.default_seconds, self._per_type
        with self.database.read_connection() as connection:
            if not has_stalled_jobs(connection, default_seconds=default, per_type=per_type):
                return
        with self.database.write_connection(notify=True) as connection:
            rows = flag_stalled_jobs(connection, default_seconds=default, per_type=per_type)
            jobs = announce_changed(connection, rows, self.job_types)
        for job in jobs:
            _logger.warning("job %s made no progress since %s: stalled", job.id, job.stalled_since)
