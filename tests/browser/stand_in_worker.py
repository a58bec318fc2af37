"""The browser tests' own worker row: the tests move jobs as a worker would.

With it, a pending job is not shown as waiting for a worker; the tests of ``waiting``
remove it (:func:`stop_stand_in_worker`) and put it back (:func:`start_stand_in_worker`),
as a worker process stopping and starting would.
"""

from __future__ import annotations

from plugin_test_host import Site

from shisho_jobs import Database
from shisho_jobs.workers import WorkerRegistration, deregister_worker, register_worker

STAND_IN_WORKER = "browser-tests"
STAND_IN_LEASE = 3600.0  # seconds: outlives every test


def register_stand_in_worker(database: Database) -> None:
    """Write the row of a live worker that runs scans and exports."""
    with database.write() as session:
        register_worker(
            session.connection(),
            WorkerRegistration(
                id=STAND_IN_WORKER, host="tests", pid=0, concurrency=1, job_types=("scan", "export")
            ),
            lease_seconds=STAND_IN_LEASE,
        )


def start_stand_in_worker(site: Site) -> None:
    """A worker starts: pending jobs stop waiting (and say so live)."""
    register_stand_in_worker(site.database)
    site.service.refresh_waiting()


def stop_stand_in_worker(site: Site) -> None:
    """No worker runs any more: pending jobs are then shown as waiting (and say so live)."""
    with site.database.write() as session:
        deregister_worker(session.connection(), STAND_IN_WORKER)
    site.service.refresh_waiting()
