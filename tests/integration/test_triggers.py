"""Every job records what started it: ``manual`` unless its creator says otherwise."""

from __future__ import annotations

import msgspec
import pytest

from shisho_jobs import JobService, JobStatus, JobTrigger, JobType, ListJobsOptions

SCAN = JobType.SCAN.value


def test_a_job_is_manual_unless_told_otherwise(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=1)

    assert job.trigger == JobTrigger.MANUAL
    assert msgspec.json.decode(msgspec.json.encode(job))["trigger"] == "manual"


@pytest.mark.parametrize("trigger", list(JobTrigger))
def test_the_trigger_is_stored_and_read_back(service: JobService, trigger: JobTrigger) -> None:
    created = service.create_job(SCAN, library_id=1, trigger=trigger.value)

    assert service.retrieve_job(created.id).trigger == trigger
    assert service.list_jobs(ListJobsOptions(type=SCAN))[0].trigger == trigger


def test_start_or_join_records_the_trigger_of_the_job_it_starts(service: JobService) -> None:
    watched, created = service.start_or_join(SCAN, library_id=2, trigger=JobTrigger.WATCH)
    joined, created_again = service.start_or_join(SCAN, library_id=2, trigger="schedule")

    assert created and not created_again
    # A joined job keeps what started it.
    assert joined.id == watched.id
    assert service.retrieve_job(watched.id).trigger == JobTrigger.WATCH


def test_a_retry_names_the_job_it_runs_again(service: JobService) -> None:
    failed = service.create_job(SCAN, library_id=3, status=JobStatus.FAILED)

    retry, created = service.start_or_join(
        SCAN, library_id=3, trigger=JobTrigger.RETRY, retry_of=failed.id
    )

    assert created
    encoded = msgspec.json.decode(msgspec.json.encode(service.retrieve_job(retry.id)))
    assert (encoded["trigger"], encoded["retry_of"]) == ("retry", failed.id)
