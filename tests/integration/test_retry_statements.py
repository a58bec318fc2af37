"""The statements behind automatic retries, on both engines."""

from __future__ import annotations

from shisho_jobs import JobService, JobStatus, JobTrigger, JobType
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.payloads import JobExportData
from shisho_jobs.retries import (
    cancel_retry,
    has_due_retries,
    retry_delay,
    runs_in_chain,
    schedule_retry,
    take_due_retries,
)

EXPORT = JobType.EXPORT.value


def _spec(max_attempts: int, backoff: float = 10.0) -> JobTypeSpec:
    return JobTypeSpec(
        name="flaky",
        payload_type=JobExportData,
        handler=lambda context: None,
        max_attempts=max_attempts,
        retry_backoff=backoff,
    )


def test_the_delay_doubles_and_stops_at_max_attempts() -> None:
    spec = _spec(max_attempts=4, backoff=10)

    assert [retry_delay(spec, runs) for runs in (1, 2, 3, 4)] == [10.0, 20.0, 40.0, None]
    assert retry_delay(_spec(max_attempts=1), 1) is None


def test_a_chain_counts_the_runs_through_retry_of(service: JobService) -> None:
    first = service.create_job(EXPORT, status=JobStatus.FAILED)
    second = service.create_job(
        EXPORT, status=JobStatus.FAILED, trigger=JobTrigger.RETRY, retry_of=first.id
    )
    third = service.create_job(
        EXPORT, status=JobStatus.FAILED, trigger=JobTrigger.RETRY, retry_of=second.id
    )

    with service.database.read_connection() as connection:
        assert runs_in_chain(connection, first.id, limit=5) == 1
        assert runs_in_chain(connection, third.id, limit=5) == 3
        assert runs_in_chain(connection, third.id, limit=2) == 2


def test_a_due_retry_is_taken_once(service: JobService) -> None:
    later = service.create_job(EXPORT, status=JobStatus.FAILED)
    due = service.create_job(EXPORT, status=JobStatus.FAILED)
    with service.database.write_connection() as connection:
        assert schedule_retry(connection, later.id, 3600) is not None
        assert schedule_retry(connection, due.id, -1) is not None
    assert service.retrieve_job(due.id).retry_at is not None

    with service.database.read_connection() as connection:
        assert has_due_retries(connection)
    with service.database.write_connection() as connection:
        assert [row.id for row in take_due_retries(connection)] == [due.id]
    with service.database.write_connection() as connection:
        assert take_due_retries(connection) == []
    assert service.retrieve_job(due.id).retry_at is None

    # Retried by hand: the automatic retry is called off.
    with service.database.write_connection() as connection:
        assert cancel_retry(connection, later.id) is not None
        assert cancel_retry(connection, later.id) is None


def test_only_a_failed_job_gets_a_retry(service: JobService) -> None:
    done = service.create_job(EXPORT, status=JobStatus.COMPLETED)

    with service.database.write_connection() as connection:
        assert schedule_retry(connection, done.id, 10) is None
