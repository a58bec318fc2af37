"""The statements behind stalled jobs and hard time limits, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shisho_jobs import JobService, JobStatus, JobType, LogLevel
from shisho_jobs.dto import Job
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.stalls import (
    describe_seconds,
    fail_timed_out_jobs,
    flag_stalled_jobs,
    has_stalled_jobs,
    has_timed_out_jobs,
)

SCAN, EXPORT = JobType.SCAN.value, JobType.EXPORT.value


def _running(
    service: JobService, job_type: str, *, started_ago: float, moved_ago: float | None
) -> Job:
    job = service.create_job(job_type, status=JobStatus.IN_PROGRESS)
    now = utcnow()
    with service.database.write() as session:
        session.execute(
            sa.update(JobRow)
            .where(JobRow.id == job.id)
            .values(
                started_at=now - timedelta(seconds=started_ago),
                last_progress_at=None if moved_ago is None else now - timedelta(seconds=moved_ago),
            )
        )
    return job


def test_a_job_without_progress_for_its_stall_time_is_flagged_once(service: JobService) -> None:
    quiet = _running(service, SCAN, started_ago=100, moved_ago=20)
    moving = _running(service, EXPORT, started_ago=100, moved_ago=1)
    with service.database.read_connection() as connection:
        assert not has_stalled_jobs(connection, default_seconds=600, per_type={})
        assert has_stalled_jobs(connection, default_seconds=600, per_type={SCAN: 10})

    with service.database.write_connection() as connection:
        rows = flag_stalled_jobs(connection, default_seconds=600, per_type={SCAN: 10})
    assert [row.id for row in rows] == [quiet.id]
    stalled = service.retrieve_job(quiet.id)
    assert stalled.stalled_since is not None
    assert stalled.status == JobStatus.IN_PROGRESS
    assert service.retrieve_job(moving.id).stalled_since is None

    with service.database.write_connection() as connection:
        assert flag_stalled_jobs(connection, default_seconds=600, per_type={SCAN: 10}) == []


def test_the_default_stall_time_covers_types_without_their_own(service: JobService) -> None:
    # No progress reported since the claim: the claim counts as the last progress.
    old = _running(service, EXPORT, started_ago=30, moved_ago=None)

    with service.database.write_connection() as connection:
        rows = flag_stalled_jobs(connection, default_seconds=5, per_type={SCAN: 600})

    assert [row.id for row in rows] == [old.id]
    job = service.retrieve_job(old.id)
    assert job.stalled_since is not None and job.started_at is not None
    assert abs((job.stalled_since - job.started_at).total_seconds()) < 0.001


def test_a_job_past_its_hard_limit_fails_with_the_reason(service: JobService) -> None:
    late = _running(service, SCAN, started_ago=120, moved_ago=1)
    young = _running(service, EXPORT, started_ago=120, moved_ago=1)
    with service.database.read_connection() as connection:
        assert not has_timed_out_jobs(connection, timeouts={SCAN: 600})
        assert has_timed_out_jobs(connection, timeouts={SCAN: 60})

    with service.database.write_connection() as connection:
        rows = fail_timed_out_jobs(connection, timeouts={SCAN: 60})

    assert [row.id for row in rows] == [late.id]
    failed = service.retrieve_job(late.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "Timed out: still running after 1 minute, the time limit of `scan` jobs."
    assert failed.finished_at is not None
    (line,) = service.list_job_logs(late.id, levels=[LogLevel.ERROR])
    assert line.message == failed.error
    # Export has no limit here.
    assert service.retrieve_job(young.id).status == JobStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (1.5, "1.5 seconds"),
        (60, "1 minute"),
        (1800, "30 minutes"),
        (7200, "2 hours"),
        (90, "90 seconds"),
    ],
)
def test_durations_read_as_words(seconds: float, words: str) -> None:
    assert describe_seconds(seconds) == words
