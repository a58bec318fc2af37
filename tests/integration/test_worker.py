"""The worker in this process, on a real SQLite file and a real PostgreSQL.

What users rely on: the scan touches only its library, failures are explained in
the logs, a presumed-dead worker cannot overwrite the outcome, lost jobs come
back, shutdown re-queues, and old jobs are pruned.
"""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from pathlib import Path

import pluggy
import pytest
import shisho_test_host
import sqlalchemy as sa
from truth_handlers import fast_worker, manager_of
from worker_support import (
    FINISHED,
    RecordingHost,
    event_statuses,
    row_of,
    wait_for_status,
)

from polling import wait_until
from shisho_jobs import (
    Database,
    Job,
    JobService,
    JobStatus,
    JobTypeSpec,
    LeaseLost,
    Worker,
    hookimpl,
)
from shisho_jobs.context import JobContext
from shisho_jobs.enums import LogLevel
from shisho_jobs.payloads import JobScanData
from shisho_jobs.plugins import job_type_registry
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.store import Claim, ClaimRequest, LogLine, Outcome, WorkerStore


def _store(database: Database) -> WorkerStore:
    """The store a worker with the built-in job types uses."""
    return WorkerStore(database, job_type_registry(manager_of()))


def _scan_to_the_end(
    database: Database, host: RecordingHost, library_id: int | None = None
) -> tuple[JobService, Job]:
    """Run one scan job on a fresh worker, with ``host`` answering the hooks, to its end."""
    manager = manager_of(host)
    jobs = JobService(database, plugin_manager=manager)
    worker = fast_worker(database, manager)
    worker.start()
    try:
        job = jobs.create_job("scan", library_id=library_id)
        return jobs, wait_for_status(jobs, job.id, FINISHED)
    finally:
        worker.stop(timeout=2.0)


@pytest.fixture
def manager(host: RecordingHost) -> pluggy.PluginManager:
    """The host's hooks and the built-in job types only (no ``truth_handlers`` types)."""
    return manager_of(host)


def test_library_scan_looks_up_and_scans_only_its_library(
    jobs: JobService, host: RecordingHost, worker: Worker
) -> None:
    job = jobs.create_job("scan", library_id=2)

    done = wait_for_status(jobs, job.id, FINISHED)

    assert done.status == JobStatus.COMPLETED
    assert done.progress == 100
    assert host.calls == [("get_library", 2), ("scan_library", 2)]
    messages = [log.message for log in jobs.list_job_logs(job.id)]
    assert messages == [
        "Scanning library 'Comics'",
        "one unreadable file",
        "Scanned library 'Comics'",
    ]


def test_global_scan_scans_each_library_once(
    jobs: JobService, host: RecordingHost, worker: Worker
) -> None:
    job = jobs.create_job("scan")

    done = wait_for_status(jobs, job.id, FINISHED)

    assert done.status == JobStatus.COMPLETED
    assert sorted(host.scanned()) == [1, 2, 3]
    assert ("get_library", 1) not in host.calls


def test_scan_of_a_library_that_no_longer_exists_fails_saying_so(
    jobs: JobService, host: RecordingHost, worker: Worker
) -> None:
    del host.libraries[3]  # gone from the host, still in the jobs database
    job = jobs.create_job("scan", library_id=3)

    done = wait_for_status(jobs, job.id, FINISHED)

    assert done.status == JobStatus.FAILED
    assert done.error == "Library 3 no longer exists; there is nothing to scan."
    errors = jobs.list_job_logs(job.id, levels=["error"])
    assert [log.message for log in errors] == [done.error]
    assert host.scanned() == []


def test_scan_that_raises_fails_with_the_stack_trace_in_the_logs(
    database: Database,
) -> None:
    host = RecordingHost(failing=frozenset({3}))
    jobs, done = _scan_to_the_end(database, host, library_id=3)

    assert done.status == JobStatus.FAILED
    assert done.error == "Job failed: FileNotFoundError: folder of Broken is missing"
    (error,) = jobs.list_job_logs(done.id, levels=["error"])
    assert error.stack_trace is not None
    assert "FileNotFoundError: folder of Broken is missing" in error.stack_trace
    assert "scan_library" in error.stack_trace


def test_global_scan_keeps_going_past_a_broken_library_and_then_fails(
    database: Database,
) -> None:
    host = RecordingHost(failing=frozenset({3}))
    _, done = _scan_to_the_end(database, host)

    assert sorted(host.scanned()) == [1, 2, 3]
    assert done.status == JobStatus.FAILED
    assert done.error == "Scan failed for 1 of 3 libraries: 'Broken'."


def test_scan_without_any_scanner_fails_clearly(database: Database) -> None:
    _, done = _scan_to_the_end(database, RecordingHost(scanner=False), library_id=1)

    assert done.status == JobStatus.FAILED
    assert done.error is not None
    assert done.error.startswith("No scanner is installed")


def test_job_of_a_type_no_worker_runs_waits_saying_so(database: Database, worker: Worker) -> None:
    # Created by a process that has the plugin; the only worker does not have it.
    creator = JobService(database, plugin_manager=manager_of(shisho_test_host))
    job = creator.create_job("noop")
    scan = creator.create_job("scan", library_id=1)

    # The worker runs what it can, and never claims what it cannot run...
    assert wait_for_status(worker.service, scan.id, FINISHED).status == JobStatus.COMPLETED
    waiting = creator.retrieve_job(job.id)
    assert waiting.status == JobStatus.PENDING
    # ...which says why it waits, instead of failing for want of a plugin.
    assert waiting.waiting == "No worker runs `noop` jobs."
    assert worker.service.list_job_logs(job.id) == []


def test_status_and_progress_changes_reach_the_event_outbox(
    database: Database, jobs: JobService, worker: Worker
) -> None:
    job = jobs.create_job("scan", library_id=1)

    wait_for_status(jobs, job.id, FINISHED)

    assert event_statuses(database, job.id) == [
        ("job.created", "pending"),
        ("job.status_changed", "in_progress"),
        ("job.progress", "in_progress"),
        ("job.status_changed", "completed"),
    ]


def test_a_worker_whose_lease_was_taken_over_cannot_write_its_late_result(
    database: Database, jobs: JobService
) -> None:
    job = jobs.create_job("scan", library_id=1)
    store = _store(database)
    late = store.claim_next(ClaimRequest("worker-a", lease_seconds=0.001))
    assert late is not None
    wait_until(
        lambda: store.rescue_expired(lease_seconds=0.001),
        timeout=5,
        what="the rescue of worker A's job",
    )
    current = store.claim_next(ClaimRequest("worker-b", lease_seconds=30))
    assert current is not None and current.id == job.id and current.attempt == 2
    stale, fresh = Claim.of(late), Claim.of(current)

    with pytest.raises(LeaseLost):
        store.finish(stale, Outcome(JobStatus.FAILED, progress=10, error="late"))
    with pytest.raises(LeaseLost):
        store.save_progress(stale, 90, lease_seconds=30)
    with pytest.raises(LeaseLost):
        store.requeue(stale)
    late_log = LogLine(LogLevel.INFO, "late line from worker A")
    assert store.write_log(stale, late_log) is False
    lost, _ = store.heartbeat([stale, fresh], lease_seconds=30)
    assert lost == {stale}
    finished, _ = store.finish(fresh, Outcome(JobStatus.COMPLETED, progress=100))

    assert finished.status == JobStatus.COMPLETED
    assert jobs.retrieve_job(job.id).process_id == "worker-b"
    assert jobs.retrieve_job(job.id).error is None
    assert "late line from worker A" not in [log.message for log in jobs.list_job_logs(job.id)]
    assert row_of(database, job.id).crash_count == 1


def test_a_lost_job_is_requeued_and_fails_as_worker_lost_after_the_crash_limit(
    database: Database, jobs: JobService
) -> None:
    job = jobs.create_job("scan", library_id=1)
    store = _store(database)
    outcomes = []
    for owner in ("a", "b", "c"):
        assert store.claim_next(ClaimRequest(owner, lease_seconds=0.001)) is not None
        (rescued,) = wait_until(
            lambda: store.rescue_expired(lease_seconds=0.001, max_crashes=3),
            timeout=5,
            what="a rescue",
        )
        outcomes.append(rescued.status)

    assert outcomes == [JobStatus.PENDING, JobStatus.PENDING, JobStatus.FAILED]
    failed = jobs.retrieve_job(job.id)
    assert failed.error == "Worker lost (3 times)"
    lines = jobs.list_job_logs(job.id)
    assert "re-queued (crash 1 of 3)" in lines[0].message
    assert lines[-1].message.startswith("Worker lost: the worker running this job stopped")
    # The worker's name (its host's) is kept apart, for readers of every library only.
    assert lines[-1].data == {"process_id": "c"}


def test_stop_puts_an_interrupted_scan_back_in_the_queue(
    database: Database, jobs: JobService, host: RecordingHost, manager: pluggy.PluginManager
) -> None:
    host.block = True
    first = fast_worker(database, manager)
    first.start()
    job = jobs.create_job("scan", library_id=1)
    wait_until(host.scanning.is_set, timeout=10, what="the scan to start")

    first.stop(timeout=5.0)

    interrupted = jobs.retrieve_job(job.id)
    assert interrupted.status == JobStatus.PENDING
    assert interrupted.process_id is None
    assert "re-queued" in jobs.list_job_logs(job.id)[-1].message
    host.release.set()
    second = fast_worker(database, manager)
    second.start()
    try:
        done = wait_for_status(jobs, job.id, FINISHED)
    finally:
        second.stop(timeout=2.0)
    assert done.status == JobStatus.COMPLETED
    assert done.attempt == 2
    assert row_of(database, job.id).crash_count == 0
    assert "failed" not in [status for _, status in event_statuses(database, job.id)]


def test_stop_requeues_a_handler_that_ignores_cancellation_after_the_grace_period(
    database: Database, jobs: JobService, host: RecordingHost, manager: pluggy.PluginManager
) -> None:
    stuck = threading.Event()

    def ignore_cancellation(context: object) -> None:
        stuck.wait(30)

    class StubbornPlugin:
        @hookimpl
        def job_types(self) -> list[JobTypeSpec]:
            return [JobTypeSpec("stubborn", JobScanData, ignore_cancellation)]

    manager.register(StubbornPlugin())
    jobs = JobService(database, plugin_manager=manager)
    worker = fast_worker(database, manager)
    worker.start()
    job = jobs.create_job("stubborn")
    wait_for_status(jobs, job.id, (JobStatus.IN_PROGRESS,))

    worker.stop(timeout=0.2)
    stuck.set()

    assert jobs.retrieve_job(job.id).status == JobStatus.PENDING


def test_retention_deletes_old_finished_jobs_and_keeps_active_ones(
    database: Database, jobs: JobService, manager: pluggy.PluginManager
) -> None:
    old = jobs.create_job("export", status=JobStatus.COMPLETED)
    recent = jobs.create_job("export", status=JobStatus.FAILED)
    active = jobs.create_job("scan", library_id=1)
    with database.write() as session:
        session.execute(
            sa.update(JobRow)
            .where(JobRow.id.in_([old.id, active.id]))
            .values(
                finished_at=utcnow() - timedelta(days=40), created_at=utcnow() - timedelta(days=40)
            )
        )
    worker = fast_worker(database, manager, retention_days=30)
    worker.start()
    try:
        wait_for_status(jobs, active.id, FINISHED)
        # Retention is one of the worker's duties: it runs beside the scan, not before it.
        wait_until(
            lambda: old.id not in {job.id for job in jobs.list_jobs()},
            timeout=15,
            what="the old job to be deleted",
        )
    finally:
        worker.stop(timeout=2.0)

    remaining = {job.id for job in jobs.list_jobs()}
    assert remaining == {recent.id, active.id}


def test_periodic_global_scan_never_overlaps_another_scan(
    database: Database, jobs: JobService, host: RecordingHost, manager: pluggy.PluginManager
) -> None:
    host.block = True
    library_scan = jobs.create_job("scan", library_id=1)
    worker = fast_worker(database, manager, global_scan_interval=0.05)
    worker.start()
    try:
        wait_until(host.scanning.is_set, timeout=10, what="the library scan to start")
        host.release.set()
        wait_for_status(jobs, library_scan.id, FINISHED)

        def global_scan_done() -> bool:
            scans = jobs.list_jobs_with_total()[0]
            return any(job.library_id is None and job.status in FINISHED for job in scans)

        wait_until(global_scan_done, timeout=15, what="a periodic global scan to run")
    finally:
        worker.stop(timeout=2.0)

    scans = sorted(jobs.list_jobs(), key=lambda job: job.id)
    assert scans[0].id == library_scan.id
    assert any(job.library_id is None for job in scans[1:])
    for earlier, later in itertools.pairwise(scans):
        assert earlier.finished_at is not None
        assert later.created_at >= earlier.finished_at  # never two active scans


def test_progress_writes_are_throttled_and_log_data_is_always_saved(
    database: Database, manager: pluggy.PluginManager
) -> None:
    def busy_handler(context: JobContext) -> None:
        for done in range(1001):
            context.progress(done, 1000)
        report = {"path": Path("/tmp/report.json"), "pages": 3}
        context.log.info("wrote the report", report)

    class BusyPlugin:
        @hookimpl
        def job_types(self) -> list[JobTypeSpec]:
            return [JobTypeSpec("busy", JobScanData, busy_handler, plugin="busy_plugin")]

    manager.register(BusyPlugin())
    jobs = JobService(database, plugin_manager=manager)
    worker = fast_worker(database, manager)
    worker.start()
    try:
        job = jobs.create_job("busy")
        done = wait_for_status(jobs, job.id, FINISHED)
    finally:
        worker.stop(timeout=2.0)

    assert done.status == JobStatus.COMPLETED and done.progress == 100
    progress_events = [e for e, _ in event_statuses(database, job.id) if e == "job.progress"]
    assert 1 <= len(progress_events) < 10  # not one per call
    (log,) = jobs.list_job_logs(job.id)
    assert log.plugin == "busy_plugin"
    assert log.data == {"path": "PosixPath('/tmp/report.json')", "pages": 3}


def test_a_worker_with_concurrency_two_runs_two_scans_at_once(
    database: Database, jobs: JobService, host: RecordingHost, manager: pluggy.PluginManager
) -> None:
    host.block = True
    worker = fast_worker(database, manager, concurrency=2)
    worker.start()
    try:
        first = jobs.create_job("scan", library_id=1)
        second = jobs.create_job("scan", library_id=2)
        wait_until(lambda: len(worker.running_job_ids) == 2, timeout=10, what="both scans to run")
        assert {jobs.retrieve_job(j.id).status for j in (first, second)} == {JobStatus.IN_PROGRESS}
        host.release.set()
        finished = [wait_for_status(jobs, j.id, FINISHED) for j in (first, second)]
    finally:
        worker.stop(timeout=2.0)

    assert [job.status for job in finished] == [JobStatus.COMPLETED, JobStatus.COMPLETED]
    assert sorted(host.scanned()) == [1, 2]
