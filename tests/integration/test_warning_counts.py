"""A job's ``warnings`` count: its ``warn`` lines, counted by the statement that writes each."""

from __future__ import annotations

import msgspec

from shisho_jobs import JobService, JobType, LogLevel


def test_each_warn_line_counts_and_other_levels_do_not(service: JobService) -> None:
    job = service.create_job(JobType.SCAN.value, library_id=1)
    assert "warnings" not in msgspec.json.decode(msgspec.json.encode(job))

    service.add_job_log(job.id, LogLevel.WARN, "Skipped unreadable file a.epub")
    service.add_job_log(job.id, LogLevel.INFO, "Scanning")
    service.add_job_log(job.id, LogLevel.ERROR, "Something broke")
    service.add_job_log(job.id, LogLevel.WARN, "Skipped unreadable file b.epub")

    seen = service.retrieve_job(job.id)
    assert seen.warnings == 2
    assert msgspec.json.decode(msgspec.json.encode(seen))["warnings"] == 2


def test_counts_are_kept_per_job(service: JobService) -> None:
    first = service.create_job(JobType.SCAN.value, library_id=1)
    second = service.create_job(JobType.SCAN.value, library_id=2)

    service.add_job_log(second.id, LogLevel.WARN, "one")

    assert (service.retrieve_job(first.id).warnings, service.retrieve_job(second.id).warnings) == (
        0,
        1,
    )
