"""Stalled jobs and hard time limits with a real worker, on SQLite and PostgreSQL.

Heartbeats say the worker lives; progress says the work moves. A handler that stops
reporting progress while its worker keeps heartbeating is shown stalled (and stays
in progress); one that ignores cancellation is still stopped at its time limit.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
from truth_handlers import TruthJobs
from worker_support import FINISHED, row_of, wait_for_status, wait_until

from shisho_jobs import Database, Job, JobService, JobStatus, LogLevel, Worker
from shisho_jobs.schema import JobEventRow

SETTLE = 15.0  # seconds: a deadline for what the worker does on a busy machine


def _stalled(jobs: JobService, job_id: int) -> Job | None:
    job = jobs.retrieve_job(job_id)
    return job if job.stalled_since is not None else None


def _events(database: Database, job_id: int) -> list[tuple[str, dict[str, object]]]:
    with database.read() as session:
        rows = session.query(JobEventRow).filter(JobEventRow.job_id == job_id)
        return [(row.event, msgspec.json.decode(row.job_json)) for row in rows.order_by("id")]


def test_a_job_without_progress_is_stalled_while_its_heartbeat_goes_on(
    database: Database, jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job = jobs.create_job("quiet")

    stalled = wait_until(lambda: _stalled(jobs, job.id), timeout=SETTLE, what="a stall")

    assert stalled.status == JobStatus.IN_PROGRESS
    row = row_of(database, job.id)
    assert row.last_progress_at is not None and stalled.stalled_since == row.last_progress_at
    # The worker is alive: its heartbeat keeps going past the stall.
    heartbeat_then = row.heartbeat_at
    assert heartbeat_then is not None
    wait_until(
        lambda: (
            (beat := row_of(database, job.id).heartbeat_at) is not None and beat > heartbeat_then
        ),
        timeout=SETTLE,
        what="a heartbeat after the stall",
    )
    assert jobs.retrieve_job(job.id).stalled_since == stalled.stalled_since
    # The stream was told, with a status_changed event carrying stalled_since.
    changes = [json for event, json in _events(database, job.id) if event == "job.status_changed"]
    assert any(json.get("stalled_since") for json in changes)

    # A stalled job can be cancelled.
    jobs.cancel_job(job.id)
    assert wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE).status == JobStatus.CANCELLED


def test_progress_clears_the_stall(
    database: Database, jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job = jobs.create_job("quiet")
    wait_until(lambda: _stalled(jobs, job.id), timeout=SETTLE, what="a stall")

    truth.resume.set()

    moving = wait_until(
        lambda: (seen := jobs.retrieve_job(job.id)).stalled_since is None and seen,
        timeout=SETTLE,
        what="the stall to clear",
    )
    assert moving.progress == 50
    last_event, last_json = _events(database, job.id)[-1]
    assert last_event == "job.progress" and "stalled_since" not in last_json


def test_a_handler_that_ignores_cancel_is_stopped_at_its_time_limit(
    database: Database, jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    job = jobs.create_job("stubborn")
    assert truth.started.wait(SETTLE)
    jobs.cancel_job(job.id)

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.FAILED
    assert done.error == (
        "Timed out: still running after 1 second, the time limit of `stubborn` jobs."
    )
    assert done.started_at is not None and done.finished_at is not None
    assert done.finished_at - done.started_at >= timedelta(seconds=1)
    errors = jobs.list_job_logs(job.id, levels=[LogLevel.ERROR])
    assert [line.message for line in errors] == [done.error]

    # Its late return writes nothing: the outcome stays the timeout's.
    truth.release.set()
    assert truth.returned.wait(SETTLE)
    other = jobs.create_job("scan", library_id=1)
    wait_for_status(jobs, other.id, FINISHED, timeout=SETTLE)
    assert jobs.retrieve_job(job.id) == done
    assert "stubborn handler returned" not in [line.message for line in jobs.list_job_logs(job.id)]
