"""What a job reports (``result``, ``warnings``) and automatic retries, with a real worker."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from truth_handlers import TruthJobs
from worker_support import FINISHED, RecordingHost, wait_for_status, wait_until

from shisho_jobs import (
    Database,
    Job,
    JobService,
    JobStatus,
    JobTrigger,
    ListJobsOptions,
    ScanResult,
    Worker,
)
from shisho_jobs.schema import JobEventRow

SETTLE = 15.0  # seconds: a deadline for the worker on a busy machine


@pytest.fixture
def host() -> RecordingHost:
    """Library 3's scan fails here (the retry tests need a failing job)."""
    return RecordingHost(failing=frozenset({3}))


def _last_event_json(database: Database, job_id: int) -> dict[str, object]:
    with database.read() as session:
        row = (
            session.query(JobEventRow)
            .filter(JobEventRow.job_id == job_id)
            .order_by(JobEventRow.id.desc())
            .first()
        )
        assert row is not None
        return dict(msgspec.json.decode(row.job_json))


def test_a_scan_reports_its_counts_and_warnings(
    database: Database, jobs: JobService, worker: Worker
) -> None:
    job = jobs.create_job("scan", library_id=1)

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.COMPLETED
    assert done.result == ScanResult(
        files=1, added=0, updated=0, removed=0, unchanged=0, warnings=1
    )
    assert done.warnings == 1
    final = _last_event_json(database, job.id)
    assert final["status"] == "completed" and final["warnings"] == 1
    assert final["result"] == {
        "files": 1,
        "added": 0,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
        "warnings": 1,
    }


def test_a_global_scan_sums_its_libraries_and_keeps_each_in_its_log(
    jobs: JobService, host: RecordingHost, worker: Worker
) -> None:
    host.failing = frozenset()
    job = jobs.create_job("scan")

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.COMPLETED
    assert isinstance(done.result, ScanResult)
    assert (done.result.files, done.result.warnings, done.warnings) == (3, 3, 3)
    per_library = [
        (line.data or {}).get("files")
        for line in jobs.list_job_logs(job.id)
        if line.message.startswith("Scanned library")
    ]
    assert per_library == [1, 1, 1]


def test_a_result_that_does_not_fit_its_type_fails_the_job_saying_so(
    jobs: JobService, worker: Worker
) -> None:
    job = jobs.create_job("misfit")

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.FAILED
    assert done.error is not None and "result.steps" in done.error
    assert done.result is None


def _chain(jobs: JobService) -> list[Job]:
    return list(reversed(jobs.list_jobs(ListJobsOptions(type="flaky", limit=10))))


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds(
    jobs: JobService, truth: TruthJobs, worker: Worker
) -> None:
    first = jobs.create_job("flaky")

    def three_runs() -> list[Job] | None:
        chain = _chain(jobs)
        return chain if len(chain) == 3 and chain[-1].status in FINISHED else None

    chain = wait_until(three_runs, timeout=SETTLE, what="two retries and a success")

    failed, completed = JobStatus.FAILED, JobStatus.COMPLETED
    assert [job.status for job in chain] == [failed, failed, completed]
    assert chain[0].id == first.id and chain[0].trigger == JobTrigger.MANUAL
    assert [(job.trigger, job.retry_of) for job in chain[1:]] == [
        (JobTrigger.RETRY, chain[0].id),
        (JobTrigger.RETRY, chain[1].id),
    ]
    assert all(job.retry_at is None for job in chain)
    # The second retry waited about twice as long as the first (0.2 s, then 0.4 s).
    gaps = [
        (later.created_at - earlier.finished_at).total_seconds()
        for earlier, later in itertools.pairwise(chain)
        if earlier.finished_at is not None
    ]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4


def test_retries_stop_at_max_attempts(jobs: JobService, truth: TruthJobs, worker: Worker) -> None:
    truth.flaky_failures = 10
    jobs.create_job("flaky")

    def settled() -> list[Job] | None:
        chain = _chain(jobs)
        done = len(chain) == 3 and chain[-1].status in FINISHED and chain[-1].retry_at is None
        return chain if done else None

    chain = wait_until(settled, timeout=SETTLE, what="three failed runs")
    assert [job.status for job in chain] == [JobStatus.FAILED] * 3
    assert len(truth.flaky_runs) == 3


def test_a_failed_scan_is_not_retried_automatically(
    jobs: JobService, host: RecordingHost, worker: Worker
) -> None:
    job = jobs.create_job("scan", library_id=3)

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.FAILED and done.retry_at is None
    assert [found.id for found in jobs.list_jobs(ListJobsOptions(type="scan"))] == [job.id]


def test_a_global_scan_with_a_broken_library_fails_and_still_counts_the_others(
    jobs: JobService, worker: Worker
) -> None:
    job = jobs.create_job("scan")  # library 3 is broken

    done = wait_for_status(jobs, job.id, FINISHED, timeout=SETTLE)

    assert done.status == JobStatus.FAILED
    assert done.error == "Scan failed for 1 of 3 libraries: 'Broken'."
    assert isinstance(done.result, ScanResult)
    assert (done.result.files, done.result.warnings) == (2, 2)
