"""The JSON shapes of the jobs API (CONTRACT section 4), as msgspec structs.

``Job`` and ``JobLog`` are also what :class:`~shisho_jobs.service.JobService`
returns: plain immutable values, safe to hand across threads and to hooks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shisho_jobs.enums import ACTIVE_STATUSES, JobStatus
from shisho_jobs.validation import Id


class Job(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A job as the API shows it. ``process_id``, ``library_id`` and the other
    optional fields are omitted when null."""

    id: int
    created_at: datetime
    updated_at: datetime
    type: str
    status: JobStatus
    data: Any
    """The job type's payload: a ``JobScanData``, ``JobExportData`` or a plugin's struct."""
    progress: int
    """Percent done, 0 to 100."""
    process_id: str | None = None
    """The worker that runs or ran the job."""
    library_id: int | None = None
    """The library the job is for; absent for a global job (all libraries)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    """Why the job failed, in one line."""
    attempt: int = 0
    """How many times a worker has claimed the job."""

    @property
    def is_active(self) -> bool:
        """Pending or in progress."""
        return self.status in ACTIVE_STATUSES


class JobLog(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One log line of a job."""

    id: int
    created_at: datetime
    job_id: int
    level: str
    message: str
    plugin: str | None = None
    data: dict[str, Any] | None = None
    stack_trace: str | None = None


class CreateJobPayload(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/jobs``."""

    type: str
    """A registered job type: ``scan``, ``export`` or a plugin's."""
    data: dict[str, Any]
    """The job type's payload (``{}`` for a default scan)."""
    library_id: Id | None = None
    """The library to work on; absent or null for a global job."""


class ListJobsResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs``: one page, newest first, and the total that match."""

    jobs: list[Job]
    total: int


class ListJobLogsResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs/{id}/logs``: oldest first."""

    logs: list[JobLog]
