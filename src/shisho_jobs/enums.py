"""Job statuses and the built-in job types."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job is in its life. A job is *active* while pending or in progress."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """Stopped on request before it finished (a finished status, like ``completed``)."""


class JobType(StrEnum):
    """Job types that ship with shisho_jobs. Plugins may register more, as plain strings."""

    SCAN = "scan"
    EXPORT = "export"


ACTIVE_STATUSES: tuple[JobStatus, ...] = (JobStatus.PENDING, JobStatus.IN_PROGRESS)
FINISHED_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)

# Written out literally (not as bound parameters) wherever it appears in SQL:
# SQLite only uses a partial index when the query repeats the index's WHERE
# term verbatim, and a bound parameter never matches a literal.
ACTIVE_STATUS_SQL = "status IN ('pending', 'in_progress')"


class JobTrigger(StrEnum):
    """What started a job (``jobs.trigger``)."""

    MANUAL = "manual"
    """A person (the button, the jobs page) or an API call."""
    WATCH = "watch"
    """Changes in a watched library folder."""
    SCHEDULE = "schedule"
    """The worker's periodic scan."""
    RETRY = "retry"
    """A retry of a finished job, asked for or automatic."""


class LogLevel(StrEnum):
    """Severity of a job log line, as in Shisho."""

    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
