"""Every error class of shisho_jobs, in one place. Framework-free: the Litestar plugin maps
them to HTTP.

Each class's docstring is its default message. Groups: bad input and missing rows (the
service), a lost lease (the worker), failures a handler explains (:class:`JobFailed` and
the scan's reasons), and set-up problems (job types, migrations, type generation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


class RecentJobExists(ShishoJobsError):
    """A job of this type, scope and trigger was created a moment ago; no second one."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.id} of the same kind was created recently.")
        self.job = job
        """The recent job."""


class InvalidSetting(ShishoJobsError, ValueError):
    """A setting (an environment variable) has a value that cannot be used."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} {reason}")
        self.name = name
        """The setting at fault."""


class JobNotFound(ShishoJobsError):
    """The job does not exist."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"Job {job_id} not found.")


class ActiveJobExists(ShishoJobsError):
    """A scan job is already running or pending."""

    def __init__(self, job: Job) -> None:
        self.job = job
        article = "An" if job.type[:1].lower() in "aeiou" else "A"
        super().__init__(f"{article} {job.type} job is already running or pending.")


class JobAlreadyFinished(ShishoJobsError):
    """The job has already finished."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__()


class LeaseLost(ShishoJobsError):
    """The worker no longer owns this job: another worker took it over after its lease expired."""


class OutboxNotSettled(ShishoJobsError):
    """Job events cannot be read yet: a database transaction begun before them is still open."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            "Live job events are held back by a database transaction that has been open for"
            f" over {seconds:g} s; try again in a moment."
        )


class OutboxSequenceCached(ShishoJobsError):
    """The ``job_events`` id sequence hands out ids from a per-session cache."""

    def __init__(self, cache: int) -> None:
        super().__init__(
            f"The job_events id sequence has CACHE {cache}; live job events need CACHE 1"
            " (with a cache, an event could be skipped). Run: ALTER SEQUENCE"
            " job_events_id_seq CACHE 1"
        )


class LibrariesTableMissing(ShishoJobsError):
    """The host's `libraries` table does not exist: create it (the host's own migrations) before
    running the shisho_jobs migrations."""


class ForeignKeysEnabledDuringMigration(ShishoJobsError):
    """SQLite foreign keys are on: turn them off (`PRAGMA foreign_keys=OFF`, outside a
    transaction) while migrating, or rebuilding `jobs` would cascade-delete every job's logs."""


class BrokenForeignKeysAfterMigration(ShishoJobsError):
    """The migration left rows whose foreign keys reference missing rows."""


class PluginImportFailed(ShishoJobsError):
    """A ``--plugin MODULE`` could not be imported; the message says which and why."""


class MigrationsNotFound(ShishoJobsError):
    """The shisho_jobs migration scripts are missing from this installation."""


class DuplicateJobType(ShishoJobsError):
    """Two plugins registered the same job type."""


class TypegenError(ShishoJobsError):
    """The structs cannot be written as TypeScript (a bad name or an unused override)."""


# --- failures a job handler explains --------------------------------------------------------


class JobFailed(ShishoJobsError):
    """The job failed for a reason its handler can explain.

    Raise it (or a subclass) from a handler to fail the job: the message becomes
    the job's ``error`` and an error line of its log, without a stack trace,
    because the failure is expected, not a bug. ``result`` (optional) is stored as the
    job's result all the same: what it did before it failed.
    """

    def __init__(self, message: str | None = None, *, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class UnknownJobTypeFailure(JobFailed):
    """No installed plugin handles this job type."""


class LibraryGone(JobFailed):
    """The job's library no longer exists."""


class NoLibraryProvider(JobFailed):
    """No plugin lists the libraries (is the host's plugin installed?)."""


class NoScanner(JobFailed):
    """No plugin scans libraries (is the host's plugin installed?)."""


class LibrariesFailed(JobFailed):
    """Some libraries of a global scan failed."""
