"""Cancelling jobs that workers run, on SQLite and PostgreSQL: cooperative, raced, and rescued."""

from __future__ import annotations

import itertools

import msgspec
import pluggy
import pytest
from truth_handlers import Counted, TruthJobs, fast_worker, manager_of
from worker_support import FINISHED, row_of, wait_for_status, wait_until

from shisho_jobs import Database, JobService, JobStatus, Worker
from shisho_jobs.errors import JobAlreadyFinished
from shisho_jobs.plugins import job_type_registry
from shisho_jobs.schema import JobEventRow
from shisho_jobs.worker.runner import CANCELLED_AT_SHUTDOWN_MESSAGE
from shisho_jobs.worker.store import ClaimRequest, WorkerStore

SETTLE = 15.0  # seconds a worker gets to act on a cancel on a busy machine (a deadline)


def _event_jsons(database: Database, job_id: int) -> list[dict[str, object]]:
    with database.read() as session:
        rows = session.query(JobEventRow).filter(JobEventRow.job_id == job_id)
        return [msgspec.json.decode(row.job_json) for row in rows.order_by(JobEventRow.id)]


def _running(jobs: JobService, truth: TruthJobs, job_type: str) -> int:
    job = jobs.create_job(job_type)
    assert truth.started.wait(SETTLE), "the handler did not start"
    wait_for_status(jobs, job.id, (JobStatus.IN_PROGRESS,))
    return job.id


def test_a_running_job_stops_and_ends_cancelled_with_what_it_did(
    database: Database, jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job_id = _running(jobs, truth, "obedient")

    asked = jobs.cancel_job(job_id)

    assert asked.status == JobStatus.IN_PROGRESS and asked.cancel_requested
    done = wait_for_status(jobs, job_id, FINISHED, timeout=SETTLE)
    assert done.status == JobStatus.CANCELLED
    assert done.error is None and done.finished_at is not None
    assert isinstance(done.result, Counted) and done.result.stopped_early
    assert done.result.steps > 0
    # The stream saw the request, then the end, with the result in it.
    seen = _event_jsons(database, job_id)
    requested = [event for event in seen if event.get("cancel_requested")]
    assert requested[0]["status"] == "in_progress"
    assert seen[-1]["status"] == "cancelled"
    assert seen[-1]["result"] == {"steps": done.result.steps, "stopped_early": True}


def test_cancelling_twice_asks_once_and_ends_cancelled(
    database: Database, jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job_id = _running(jobs, truth, "obedient")

    first = jobs.cancel_job(job_id)
    second = jobs.cancel_job(job_id)

    assert first.cancel_requested and second.cancel_requested
    done = wait_for_status(jobs, job_id, FINISHED, timeout=SETTLE)
    assert done.status == JobStatus.CANCELLED
    flips = [
        (before.get("cancel_requested", False), after.get("cancel_requested", False))
        for before, after in itertools.pairwise(_event_jsons(database, job_id))
    ]
    assert flips.count((False, True)) == 1
    with pytest.raises(JobAlreadyFinished):
        jobs.cancel_job(job_id)


def test_a_handler_that_finishes_before_it_looks_completes(
    jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job_id = _running(jobs, truth, "finisher")

    jobs.cancel_job(job_id)
    truth.release.set()  # it finishes its work without ever reading context.cancelled

    done = wait_for_status(jobs, job_id, FINISHED, timeout=SETTLE)
    assert done.status == JobStatus.COMPLETED
    assert done.cancel_requested  # asked, but it had finished: the truth
    assert done.result == {"finished": True}


def test_a_pending_job_cancelled_never_runs(
    database: Database, jobs: JobService, manager: pluggy.PluginManager, truth: TruthJobs
) -> None:
    job = jobs.create_job("obedient")
    jobs.cancel_job(job.id)

    worker = fast_worker(database, manager)
    worker.start()
    try:
        other = jobs.create_job("scan", library_id=1)
        wait_for_status(jobs, other.id, FINISHED, timeout=SETTLE)
    finally:
        worker.stop(timeout=2.0)

    assert not truth.started.is_set()
    assert jobs.retrieve_job(job.id).status == JobStatus.CANCELLED


def test_a_job_claimed_by_another_worker_stops_there(
    database: Database, manager: pluggy.PluginManager, truth: TruthJobs
) -> None:
    runner = fast_worker(database, manager, process_id="runner")
    bystander = fast_worker(database, manager, process_id="bystander")
    # The cancel comes from a process of its own: a service that runs no worker.
    web = JobService(database, plugin_manager=manager_of(TruthJobs()))
    runner.start()
    try:
        job_id = _running(web, truth, "obedient")
        bystander.start()
        assert row_of(database, job_id).process_id == "runner"

        web.cancel_job(job_id)

        done = wait_for_status(web, job_id, FINISHED, timeout=SETTLE)
        assert done.status == JobStatus.CANCELLED
        assert (done.process_id, done.attempt) == ("runner", 1)
    finally:
        bystander.stop(timeout=2.0)
        runner.stop(timeout=2.0)


def test_a_cancelled_job_whose_worker_is_lost_ends_cancelled_not_requeued(
    database: Database, jobs: JobService, manager: pluggy.PluginManager
) -> None:
    store = WorkerStore(database, job_type_registry(manager))
    job = jobs.create_job("obedient")
    claimed = store.claim_next(ClaimRequest("lost-worker", lease_seconds=0.001))
    assert claimed is not None and claimed.id == job.id
    jobs.cancel_job(job.id)

    def rescued() -> bool:
        return bool(store.rescue_expired(lease_seconds=0.001))

    wait_until(rescued, timeout=SETTLE, what="the lost worker's job to be rescued")

    done = jobs.retrieve_job(job.id)
    assert done.status == JobStatus.CANCELLED and done.finished_at is not None
    assert "cancel" in jobs.list_job_logs(job.id)[-1].message.lower()


def test_cancel_racing_the_finish_keeps_one_truthful_outcome(
    jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job_id = _running(jobs, truth, "obedient")

    truth.release.set()  # the handler returns as the cancel arrives
    try:
        asked = jobs.cancel_job(job_id)
    except JobAlreadyFinished as finished:
        asked = finished.job

    done = wait_for_status(jobs, job_id, FINISHED, timeout=SETTLE)
    # Either it saw the cancel (cancelled) or it had finished (completed): never both, never lost.
    assert done.status in (JobStatus.CANCELLED, JobStatus.COMPLETED)
    assert isinstance(done.result, Counted)
    assert done.result.stopped_early == (done.status == JobStatus.CANCELLED)
    assert asked.id == job_id


def test_a_cancelled_job_that_outlasts_its_workers_shutdown_ends_cancelled(
    database: Database, jobs: JobService, manager: pluggy.PluginManager, truth: TruthJobs
) -> None:
    worker = fast_worker(database, manager)
    worker.start()
    job_id = _running(jobs, truth, "finisher")  # it never looks at context.cancelled
    jobs.cancel_job(job_id)

    worker.stop(timeout=0.2)  # gives up waiting for the handler

    done = jobs.retrieve_job(job_id)
    assert done.status == JobStatus.CANCELLED, "asked to cancel: never re-queued"
    assert CANCELLED_AT_SHUTDOWN_MESSAGE in [line.message for line in jobs.list_job_logs(job_id)]
    truth.release.set()  # its late return changes nothing
    assert jobs.retrieve_job(job_id) == done
