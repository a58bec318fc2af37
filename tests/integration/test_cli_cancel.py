"""``shisho-jobs cancel ID``: what it does to each kind of job, and what it says."""

from __future__ import annotations

import pytest

from shisho_jobs import JobService, JobStatus
from shisho_jobs.cli import main


def _url(service: JobService) -> str:
    return service.database.url.render_as_string(hide_password=False)


def test_cancel_a_pending_job(service: JobService, capsys: pytest.CaptureFixture[str]) -> None:
    job = service.create_job("scan", library_id=1)

    assert main(["cancel", str(job.id), "--database-url", _url(service)]) == 0

    assert capsys.readouterr().out == f"Job {job.id} cancelled (it had not started).\n"
    assert service.retrieve_job(job.id).status == JobStatus.CANCELLED


def test_cancel_a_running_job_asks_it_to_stop(
    service: JobService, capsys: pytest.CaptureFixture[str]
) -> None:
    job = service.create_job("scan", library_id=1, status=JobStatus.IN_PROGRESS)

    assert main(["cancel", str(job.id), "--database-url", _url(service)]) == 0

    assert "is asked to stop" in capsys.readouterr().out
    running = service.retrieve_job(job.id)
    assert running.status == JobStatus.IN_PROGRESS and running.cancel_requested


def test_cancel_of_a_finished_or_missing_job_fails_saying_why(
    service: JobService, capsys: pytest.CaptureFixture[str]
) -> None:
    done = service.create_job("scan", library_id=1, status=JobStatus.COMPLETED)

    assert main(["cancel", str(done.id), "--database-url", _url(service)]) == 1
    assert f"job {done.id} has already finished (completed)" in capsys.readouterr().out
    assert main(["cancel", "999999", "--database-url", _url(service)]) == 1
    assert "Job 999999 not found." in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "99999999999"])
def test_cancel_refuses_an_id_that_is_not_one(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["cancel", bad])

    assert refused.value.code == 2
    assert "expected a job id" in capsys.readouterr().err
