"""Pending jobs say why they wait, and stop waiting by themselves when a worker starts."""

from __future__ import annotations

import os
import socket

import msgspec
import pluggy
import pytest
from truth_handlers import TruthJobs, fast_worker, manager_of
from worker_support import FINISHED, RecordingHost, wait_for_status, wait_until

from shisho_jobs import Database, JobService, JobStatus
from shisho_jobs.schema import JobEventRow
from shisho_jobs.workers import NO_WORKER, list_live_workers

SETTLE = 15.0  # seconds: a deadline for a worker starting on a busy machine


@pytest.fixture
def manager() -> pluggy.PluginManager:
    return manager_of(RecordingHost(), TruthJobs())


@pytest.fixture
def jobs(database: Database, manager: pluggy.PluginManager) -> JobService:
    return JobService(database, plugin_manager=manager)


def _live(database: Database) -> list[str]:
    with database.read_connection() as connection:
        return [worker.id for worker in list_live_workers(connection)]


def test_a_job_waits_for_a_worker_and_runs_when_one_starts(
    database: Database, jobs: JobService, manager: pluggy.PluginManager
) -> None:
    job = jobs.create_job("scan", library_id=1)
    assert job.waiting == NO_WORKER == "No worker is running."
    assert msgspec.json.decode(msgspec.json.encode(job))["waiting"] == NO_WORKER

    worker = fast_worker(database, manager, process_id="w-1", concurrency=2)
    worker.start()
    try:
        done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)
        assert done.status == JobStatus.COMPLETED and done.waiting is None
        # The stream was told the job stopped waiting, before it ran.
        with database.read() as session:
            rows = session.query(JobEventRow).filter(JobEventRow.job_id == job.id)
            seen = [msgspec.json.decode(row.job_json) for row in rows.order_by(JobEventRow.id)]
        assert seen[0]["waiting"] == NO_WORKER
        assert "waiting" not in seen[1] and seen[1]["status"] in ("pending", "in_progress")

        with database.read_connection() as connection:
            (registered,) = list_live_workers(connection)
        assert (registered.id, registered.host, registered.pid) == (
            "w-1",
            socket.gethostname(),
            os.getpid(),
        )
        assert registered.concurrency == 2
        assert {"scan", "export", "obedient"} <= set(registered.job_types)
    finally:
        worker.stop(timeout=2.0)

    # A stopped worker deletes its row: new jobs wait again, and say so.
    assert _live(database) == []
    later = jobs.create_job("scan", library_id=2)
    assert later.waiting == NO_WORKER


def test_a_job_of_a_type_no_worker_runs_says_which(database: Database, jobs: JobService) -> None:
    # The worker lacks the plugin that brings the ``obedient`` type.
    worker = fast_worker(database, manager_of(RecordingHost()), process_id="scans-only")
    worker.start()
    try:
        wait_until(lambda: _live(database) == ["scans-only"], timeout=SETTLE, what="register")
        job = jobs.create_job("obedient")
        assert job.waiting == "No worker runs `obedient` jobs."
        scan = jobs.create_job("scan", library_id=1)
        assert scan.waiting is None
        assert wait_for_status(jobs, scan.id, FINISHED, timeout=SETTLE).status == (
            JobStatus.COMPLETED
        )
        # It is never claimed by a worker that cannot run it.
        assert jobs.retrieve_job(job.id).status == JobStatus.PENDING
    finally:
        worker.stop(timeout=2.0)


def test_waiting_comes_back_when_the_last_worker_stops(
    database: Database, jobs: JobService, manager: pluggy.PluginManager
) -> None:
    worker = fast_worker(database, manager_of(RecordingHost()), process_id="only")
    worker.start()
    wait_until(lambda: _live(database) == ["only"], timeout=SETTLE, what="register")
    job = jobs.create_job("obedient")  # nobody runs it: it stays pending
    assert job.waiting == "No worker runs `obedient` jobs."

    worker.stop(timeout=2.0)

    assert jobs.retrieve_job(job.id).waiting == NO_WORKER
