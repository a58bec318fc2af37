"""The workers table: registration, heartbeats, expiry, and the ``waiting`` of pending jobs."""

from __future__ import annotations

from polling import wait_until
from shisho_jobs import Database, JobService, JobStatus, JobType
from shisho_jobs.waiting_watch import WaitingWatch
from shisho_jobs.workers import (
    NO_WORKER,
    WorkerRegistration,
    delete_expired_workers,
    deregister_worker,
    has_expired_workers,
    heartbeat_worker,
    list_live_workers,
    live_workers,
    no_worker_runs,
    refresh_waiting,
    register_worker,
    waiting_is_stale,
)

SCAN, EXPORT = JobType.SCAN.value, JobType.EXPORT.value


def _register(
    database: Database, worker_id: str, job_types: tuple[str, ...], *, lease: float = 30.0
) -> None:
    registration = WorkerRegistration(
        id=worker_id, host="host-a", pid=42, concurrency=2, job_types=job_types
    )
    with database.write_connection() as connection:
        register_worker(connection, registration, lease_seconds=lease)


def _refresh(database: Database) -> dict[int, str | None]:
    with database.write_connection() as connection:
        rows = refresh_waiting(connection, live_workers(connection))
    return {row.id: row.waiting for row in rows}


def test_a_registered_worker_is_listed_until_it_deregisters(database: Database) -> None:
    _register(database, "w-1", (SCAN, EXPORT))

    with database.read_connection() as connection:
        (worker,) = list_live_workers(connection)
    assert (worker.id, worker.host, worker.pid, worker.concurrency) == ("w-1", "host-a", 42, 2)
    assert worker.job_types == [EXPORT, SCAN]
    assert worker.heartbeat_at >= worker.started_at

    with database.write_connection() as connection:
        deregister_worker(connection, "w-1")
    with database.read_connection() as connection:
        assert list_live_workers(connection) == []


def test_an_expired_worker_is_not_live_and_is_deleted(database: Database) -> None:
    _register(database, "gone", (SCAN,), lease=-1.0)  # its lease ran out already
    _register(database, "alive", (SCAN,))

    with database.read_connection() as connection:
        assert [worker.id for worker in list_live_workers(connection)] == ["alive"]
        assert has_expired_workers(connection)
    with database.write_connection() as connection:
        assert delete_expired_workers(connection) == ["gone"]
        assert not has_expired_workers(connection)
        # A heartbeat of a deleted row says so: the worker registers again.
        assert heartbeat_worker(connection, "gone", lease_seconds=30) is False
        assert heartbeat_worker(connection, "alive", lease_seconds=30) is True


def test_pending_jobs_say_why_they_wait_and_stop_when_a_worker_can_run_them(
    service: JobService,
) -> None:
    database = service.database
    scan = service.create_job(SCAN, library_id=1)
    export = service.create_job(EXPORT)
    done = service.create_job(EXPORT, status=JobStatus.COMPLETED)

    # Created with no worker alive: they say so from the start.
    assert (scan.waiting, export.waiting, done.waiting) == (NO_WORKER, NO_WORKER, None)
    assert _refresh(database) == {}

    _register(database, "scanner", (SCAN,))
    assert _refresh(database) == {scan.id: None, export.id: no_worker_runs(EXPORT)}
    assert service.retrieve_job(export.id).waiting == "No worker runs `export` jobs."

    # Nothing changes twice: a second refresh touches no row.
    with database.read_connection() as connection:
        assert not waiting_is_stale(connection, live_workers(connection))
    assert _refresh(database) == {}

    _register(database, "exporter", (EXPORT,))
    assert _refresh(database) == {export.id: None}


def test_the_waiting_watch_notices_that_the_last_worker_died(service: JobService) -> None:
    database = service.database
    _register(database, "doomed", (SCAN,))
    job = service.create_job(SCAN, library_id=1)
    assert service.retrieve_job(job.id).waiting is None
    _register(database, "doomed", (SCAN,), lease=-1.0)  # it stopped heartbeating

    watch = WaitingWatch(service, interval=0.05)
    watch.start()
    try:
        wait_until(
            lambda: service.retrieve_job(job.id).waiting == NO_WORKER,
            timeout=15,
            what="the pending job to say that no worker is running",
        )
    finally:
        watch.stop()
    with database.read_connection() as connection:
        assert list_live_workers(connection) == []
        assert not has_expired_workers(connection)  # the row was deleted
