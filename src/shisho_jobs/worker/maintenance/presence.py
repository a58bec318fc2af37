"""Presence: the worker's row in ``workers``, and the ``waiting`` of pending jobs.

The worker registers when it starts, renews its row with each run of this duty and
deletes it when it stops. Each run also deletes the rows of workers that stopped
heartbeating (killed, or on a lost host) and brings every pending job's ``waiting``
in line with the workers still alive (:meth:`JobService.refresh_waiting`), so a
job says "No worker is running." by itself once the last worker is gone, and stops
saying it once one starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shisho_jobs.db import Database
from shisho_jobs.service import JobService
from shisho_jobs.workers import (
    WorkerRegistration,
    deregister_worker,
    heartbeat_worker,
    register_worker,
)

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class KeepWorkerRegistered:
    """Keep this worker's row alive; expire the others' and refresh ``waiting``.

    Args:
        service: refreshes the pending jobs' ``waiting``.
        database: where the ``workers`` table is.
        registration: this worker.
        lease_seconds: how long the row stays alive without a renewal.
        interval: seconds between two renewals (a third of the lease).
    """

    service: JobService
    database: Database
    registration: WorkerRegistration
    lease_seconds: float
    interval: float
    name: str = "worker presence"

    def register(self) -> None:
        """Write this worker's row; pending jobs it can run stop waiting."""
        with self.database.write_connection() as connection:
            register_worker(connection, self.registration, lease_seconds=self.lease_seconds)
        self.service.refresh_waiting()

    def run(self) -> None:
        """Renew the row (again registering if it expired meanwhile); expire the others'."""
        with self.database.write_connection() as connection:
            alive = heartbeat_worker(
                connection, self.registration.id, lease_seconds=self.lease_seconds
            )
            if not alive:
                _logger.warning("worker %s had expired; registering again", self.registration.id)
                register_worker(connection, self.registration, lease_seconds=self.lease_seconds)
        self.service.refresh_waiting()

    def deregister(self) -> None:
        """Delete this worker's row; pending jobs that only it could run say so."""
        with self.database.write_connection() as connection:
            deregister_worker(connection, self.registration.id)
        self.service.refresh_waiting()
