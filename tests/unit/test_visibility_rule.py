"""The visibility rule's parts that need no database: what a reader of only some libraries
receives of a job and of a log line it may see (shisho_jobs.visibility)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shisho_jobs.dto import Job, JobLog
from shisho_jobs.enums import JobStatus, JobTrigger
from shisho_jobs.visibility import (
    ALL_LIBRARIES,
    GLOBAL_DETAILS_HIDDEN,
    log_visible,
    redact_paths,
    shown_job,
    shown_log,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LIBRARIAN = frozenset({1})


def _job(library_id: int | None, error: str | None) -> Job:
    return Job(
        id=7,
        created_at=NOW,
        updated_at=NOW,
        type="scan",
        status=JobStatus.FAILED,
        data={},
        progress=100,
        process_id="books-host:4242:ab12",
        library_id=library_id,
        error=error,
        trigger=JobTrigger.MANUAL,
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "Library folder /srv/var/libraries/broken is missing",
            "Library folder …/broken is missing",
        ),
        ("cannot open '/home/a/b.epub': denied", "cannot open '…/b.epub': denied"),
        ("C:\\books\\x.epub is locked", "…/x.epub is locked"),
        (
            "Skipped unreadable file sub/dir/a.epub: loop",
            "Skipped unreadable file sub/dir/a.epub: loop",
        ),
        ("3/4 done, and/or more", "3/4 done, and/or more"),
    ],
)
def test_server_paths_are_shortened_to_their_last_part(text: str, shown: str) -> None:
    assert redact_paths(text) == shown


def test_a_global_job_keeps_its_details_for_readers_of_every_library_only() -> None:
    job = _job(None, "Scan failed for 1 of 3 libraries: 'Broken'.")

    assert shown_job(job, None) == job
    limited = shown_job(job, LIBRARIAN)
    assert limited.error == GLOBAL_DETAILS_HIDDEN
    assert limited.process_id is None
    assert (limited.id, limited.status, limited.progress) == (job.id, job.status, job.progress)


def test_a_library_job_shows_its_error_without_server_paths() -> None:
    job = _job(1, "Library folder /srv/books is missing")

    limited = shown_job(job, LIBRARIAN)

    assert limited.error == "Library folder …/books is missing"
    assert limited.process_id is None


def test_a_log_line_is_for_the_readers_of_what_it_is_about() -> None:
    assert log_visible(LIBRARIAN, None) and log_visible(LIBRARIAN, 1)
    assert not log_visible(LIBRARIAN, 2)
    assert not log_visible(LIBRARIAN, ALL_LIBRARIES)
    assert log_visible(None, ALL_LIBRARIES) and log_visible(None, 2)


def test_a_log_line_loses_its_stack_trace_and_worker_name_for_a_limited_reader() -> None:
    line = JobLog(
        id=1,
        created_at=NOW,
        job_id=7,
        level="error",
        message="Job failed: OSError: /srv/books/a.epub",
        data={"process_id": "books-host:1", "file": "/srv/books/a.epub", "n": 3},
        stack_trace="Traceback (most recent call last): ...",
    )

    limited = shown_log(line, LIBRARIAN)

    assert limited.message == "Job failed: OSError: …/a.epub"
    assert limited.data == {"file": "…/a.epub", "n": 3}
    assert limited.stack_trace is None
    assert shown_log(line, None) == line
