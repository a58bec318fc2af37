"""The JSON shapes of the jobs API (CONTRACT section 4), as msgspec structs.

``Job`` and ``JobLog`` are also what :class:`~shisho_jobs.service.JobService`
returns: plain immutable values, safe to hand across threads and to hooks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shisho_jobs.enums import ACTIVE_STATUSES, JobStatus, JobTrigger
from shisho_jobs.validation import Id


class Job(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A job as the API shows it. ``process_id``, ``library_id`` and the other
    optional fields are omitted when null (``warnings`` when 0, ``cancel_requested``
    when false)."""

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
    trigger: JobTrigger
    """What started the job: a person or an API call (``manual``), file changes
    (``watch``), the schedule (``schedule``) or a retry (``retry``)."""
    result: Any = None
    """What the job reported when it ended (its type's result struct, a ``ScanResult``
    for scans); absent until then."""
    warnings: int = 0
    """How many ``warn`` lines the job logged so far."""
    cancel_requested: bool = False
    """A cancel was asked for (the job ends ``cancelled`` once its handler stops)."""
    stalled_since: datetime | None = None
    """For an in-progress job that reported no progress for its stall time
    (``SHISHO_STALL_SECONDS``): the time of its last progress. It stays in progress."""
    waiting: str | None = None
    """For a pending job that no live worker can run: why, in words
    (``No worker is running.``)."""
    retry_of: int | None = None
    """The finished job this one runs again (``trigger`` is ``retry``)."""
    retry_at: datetime | None = None
    """For a failed job of a type with automatic retries: when it is retried."""

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
    """Answer of ``GET /api/jobs/{id}/logs``: one page of lines, oldest first."""

    logs: list[JobLog]
    has_more: bool = False
    """More lines follow the last one: ask again with ``after_id`` its id."""
