"""Typed errors of shisho_jobs. Framework-free: the Litestar plugin maps them to HTTP.

Each class's docstring is its default message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shisho_jobs.dto import Job


class ShishoJobsError(Exception):
    """A shisho_jobs operation failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (type(self).__doc__ or "").strip())

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0])


class InvalidJobInput(ShishoJobsError):
    """A value given to shisho_jobs is not valid."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"Invalid `{field}`: {reason}")


class UnknownJobType(InvalidJobInput):
    """The job type is not registered."""

    def __init__(self, job_type: str, known: list[str], *, field: str = "type") -> None:
        self.job_type = job_type
        super().__init__(field, f"unknown job type {job_type!r}; expected one of {sorted(known)}")


class LibraryNotFound(InvalidJobInput):
    """No library has this id."""

    def __init__(self, library_id: int, field: str = "library_id") -> None:
        self.library_id = library_id
        super().__init__(field, f"no library with id {library_id}")


class JobNotFound(ShishoJobsError):
    """The job does not exist."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"Job {job_id} not found.")


class ActiveJobExists(ShishoJobsError):
    """A scan job is already running or pending."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"A {job.type} job is already running or pending.")


class JobAlreadyFinished(ShishoJobsError):
    """The job has already finished."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__()


class LeaseLost(ShishoJobsError):
    """The worker no longer owns this job: another worker took it over after its lease expired."""


class LibrariesTableMissing(ShishoJobsError):
    """The host's `libraries` table does not exist: create it (the host's own migrations) before
    running the shisho_jobs migrations."""


class ForeignKeysEnabledDuringMigration(ShishoJobsError):
    """SQLite foreign keys are on: turn them off (`PRAGMA foreign_keys=OFF`, outside a
    transaction) while migrating, or rebuilding `jobs` would cascade-delete every job's logs."""
