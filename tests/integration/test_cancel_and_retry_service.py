"""JobService.cancel_job and retry_job on both engines (the worker side: test_cancel_worker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shisho_jobs import (
    ActiveJobExists,
    Database,
    JobNotFound,
    JobScanData,
    JobService,
    JobStatus,
    JobTrigger,
    JobType,
    ListJobsOptions,
)
from shisho_jobs.errors import JobAlreadyFinished
from shisho_jobs.schema import JobEventRow, JobRow, utcnow
from shisho_jobs.service import EVENT_STATUS_CHANGED

SCAN, EXPORT = JobType.SCAN.value, JobType.EXPORT.value


def _events(database: Database, job_id: int) -> list[str]:
    with database.read() as session:
        query = sa.select(JobEventRow.event).where(JobEventRow.job_id == job_id)
        return list(session.scalars(query.order_by(JobEventRow.id)))


def test_a_pending_job_is_cancelled_at_once(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=1)

    cancelled = service.cancel_job(job.id)

    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.cancel_requested and cancelled.finished_at is not None
    assert service.retrieve_job(job.id).status == JobStatus.CANCELLED
    assert _events(service.database, job.id)[-1] == EVENT_STATUS_CHANGED
    # Cancelled is finished: it blocks nobody.
    again, created = service.start_or_join(SCAN, library_id=1)
    assert created and again.id != job.id


def test_an_in_progress_job_is_asked_to_stop_once(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=1, status=JobStatus.IN_PROGRESS)
    events_before = len(_events(service.database, job.id))

    asked = service.cancel_job(job.id)
    asked_again = service.cancel_job(job.id)

    assert asked.status == JobStatus.IN_PROGRESS and asked.cancel_requested
    assert asked_again.status == JobStatus.IN_PROGRESS and asked_again.cancel_requested
    # The JSON changed once, so one event, however often it is asked.
    assert _events(service.database, job.id)[events_before:] == [EVENT_STATUS_CHANGED]
    assert service.retrieve_job(job.id).cancel_requested


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_cannot_be_cancelled(service: JobService, status: JobStatus) -> None:
    job = service.create_job(SCAN, library_id=2, status=status)

    with pytest.raises(JobAlreadyFinished) as refused:
        service.cancel_job(job.id)

    assert refused.value.job.id == job.id
    assert refused.value.message == "The job has already finished."
    assert service.retrieve_job(job.id).status == status


def test_cancelling_a_missing_or_invisible_job_finds_nothing(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=2)

    with pytest.raises(JobNotFound):
        service.cancel_job(job.id, visible_library_ids={1})
    with pytest.raises(JobNotFound):
        service.cancel_job(999_999)
    assert service.retrieve_job(job.id).status == JobStatus.PENDING


def test_cancelled_is_a_finished_status_for_filters_and_retention(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=3)
    service.cancel_job(job.id)

    listed = service.list_jobs(ListJobsOptions(statuses=[JobStatus.CANCELLED.value]))
    assert [found.id for found in listed] == [job.id]
    assert not service.has_active_job(SCAN, 3)

    with service.database.write() as session:
        past = utcnow() - timedelta(days=40)
        session.execute(sa.update(JobRow).where(JobRow.id == job.id).values(finished_at=past))
    assert service.cleanup_old_jobs(30) == 1


def test_a_retry_starts_the_same_job_again(service: JobService) -> None:
    failed = service.create_job(
        SCAN, JobScanData(force=True), library_id=2, status=JobStatus.FAILED
    )

    retry = service.retry_job(failed.id)

    assert retry.status == JobStatus.PENDING
    assert (retry.type, retry.data, retry.library_id) == (SCAN, JobScanData(force=True), 2)
    assert (retry.trigger, retry.retry_of) == (JobTrigger.RETRY, failed.id)


def test_a_retry_of_an_active_job_answers_with_that_job(service: JobService) -> None:
    running = service.create_job(SCAN, library_id=1, status=JobStatus.IN_PROGRESS)

    with pytest.raises(ActiveJobExists) as refused:
        service.retry_job(running.id)

    assert refused.value.job.id == running.id


def test_a_retry_joins_the_active_scan_that_blocks_it(service: JobService) -> None:
    failed = service.create_job(SCAN, library_id=1, status=JobStatus.FAILED)
    global_scan = service.create_job(SCAN)

    with pytest.raises(ActiveJobExists) as refused:
        service.retry_job(failed.id)

    assert refused.value.job.id == global_scan.id


def test_a_retry_of_an_invisible_job_finds_nothing(service: JobService) -> None:
    failed = service.create_job(EXPORT, status=JobStatus.FAILED)
    other = service.create_job(SCAN, library_id=3, status=JobStatus.FAILED)

    with pytest.raises(JobNotFound):
        service.retry_job(other.id, visible_library_ids={1})
    # A global job is visible to everyone who may read jobs.
    assert service.retry_job(failed.id, visible_library_ids={1}).retry_of == failed.id
