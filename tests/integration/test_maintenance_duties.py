"""Each maintenance duty of the worker on its own, on both engines: rescue, retention, the
periodic global scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from worker_support import row_of

from polling import wait_until
from shisho_jobs import Database, Job, JobService, JobStatus, get_plugin_manager
from shisho_jobs.plugins import job_type_registry
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.maintenance.global_scan import PeriodicGlobalScan
from shisho_jobs.worker.maintenance.rescue import RescueExpiredLeases
from shisho_jobs.worker.maintenance.retention import Retention
from shisho_jobs.worker.store import ClaimRequest, WorkerStore


@pytest.fixture
def store(database: Database) -> WorkerStore:
    return WorkerStore(database, job_type_registry(get_plugin_manager(load_entry_points=False)))


def _age(database: Database, job: Job, days: float) -> None:
    """Make ``job`` look created and finished ``days`` ago."""
    long_ago = utcnow() - timedelta(days=days)
    with database.write() as session:
        session.execute(
            sa.update(JobRow)
            .where(JobRow.id == job.id)
            .values(created_at=long_ago, finished_at=long_ago)
        )


def test_rescue_requeues_a_job_whose_lease_expired(
    database: Database, service: JobService, store: WorkerStore
) -> None:
    job = service.create_job("scan", library_id=1)
    assert store.claim_next(ClaimRequest("gone-worker", lease_seconds=0.001)) is not None
    rescued: list[Job] = []
    duty = RescueExpiredLeases(store, lease_seconds=0.001, interval=1.0, on_rescued=rescued.append)

    wait_until(lambda: duty.run() or rescued, timeout=5, what="the expired lease is rescued")

    assert [(r.id, r.status) for r in rescued] == [(job.id, JobStatus.PENDING)]
    assert service.retrieve_job(job.id).process_id is None
    assert row_of(database, job.id).crash_count == 1
    assert "re-queued (crash 1 of 3)" in service.list_job_logs(job.id)[0].message


def test_rescue_leaves_a_job_with_a_live_lease_alone(
    service: JobService, store: WorkerStore
) -> None:
    job = service.create_job("scan", library_id=1)
    assert store.claim_next(ClaimRequest("live-worker", lease_seconds=60)) is not None
    rescued: list[Job] = []

    RescueExpiredLeases(store, lease_seconds=60, interval=1.0, on_rescued=rescued.append).run()

    assert rescued == []
    assert service.retrieve_job(job.id).status == JobStatus.IN_PROGRESS


def test_retention_deletes_old_finished_jobs_and_old_events_only(
    database: Database, service: JobService
) -> None:
    old = service.create_job("export", status=JobStatus.COMPLETED)
    recent = service.create_job("export", status=JobStatus.FAILED)
    old_active = service.create_job("scan", library_id=1)
    _age(database, old, days=40)
    _age(database, old_active, days=40)
    events_before = service.outbox.latest_id()

    Retention(service, service.outbox, retention_days=30, event_retention=3600).run()

    assert {job.id for job in service.list_jobs()} == {recent.id, old_active.id}
    # The recent jobs' events are younger than an hour: kept.
    assert service.outbox.latest_id() == events_before

    Retention(service, service.outbox, retention_days=30, event_retention=0).run()
    assert service.outbox.oldest_id() is None  # every event is older than 0 seconds


def test_periodic_global_scan_enqueues_one_when_due_and_never_a_second(
    database: Database, service: JobService, store: WorkerStore
) -> None:
    duty = PeriodicGlobalScan(service, store, scan_interval=3600)
    assert duty.interval == 60.0  # checks at least every minute

    duty.run()
    duty.run()

    scans = service.list_jobs_with_total()[0]
    assert [(job.type, job.library_id) for job in scans] == [("scan", None)]


def test_periodic_global_scan_joins_an_active_library_scan(
    database: Database, service: JobService, store: WorkerStore
) -> None:
    last = service.create_job("scan", status=JobStatus.COMPLETED)
    _age(database, last, days=1)
    running = service.create_job("scan", library_id=2)

    PeriodicGlobalScan(service, store, scan_interval=60).run()

    assert {job.id for job in service.list_jobs()} == {last.id, running.id}
