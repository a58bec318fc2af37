"""The JSON shapes of the jobs API (CONTRACT section 4), as msgspec structs.

``Job`` and ``JobLog`` are also what :class:`~shisho_jobs.service.JobService`
returns: plain immutable values, safe to hand across threads and to hooks.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec

from shisho_jobs.enums import ACTIVE_STATUSES, JobStatus, JobTrigger
from shisho_jobs.errors import InvalidJobInput
from shisho_jobs.schema import MAX_ID

Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID, description="A row id (1 to 2^31-1).")]
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 10


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


class ListJobsQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs``."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIST_LIMIT)] = DEFAULT_LIST_LIMIT
    offset: Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)] = 0
    status: list[JobStatus] = msgspec.field(default_factory=list)
    type: str | None = None
    library_id_or_global: Id | None = None
    """Only jobs of this library and global jobs."""


class ListJobsResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs``: one page, newest first, and the total that match."""

    jobs: list[Job]
    total: int


class ListJobLogsResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs/{id}/logs``: oldest first."""

    logs: list[JobLog]


T = TypeVar("T")

_PATH = re.compile(r"at `\$\.?([^`]*)`")
_NAMED = re.compile(r"field `([^`]+)`")


def field_of(error: msgspec.ValidationError, prefix: str = "") -> str:
    """The dotted name of the field a msgspec validation error is about."""
    text = str(error)
    path = ""
    if match := _PATH.search(text):
        path = match.group(1).replace("[", ".").replace("]", "")
    if named := _NAMED.search(text):
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    field = ".".join(part for part in (prefix, path) if part)
    return field or prefix or "body"


def reason_of(error: msgspec.ValidationError) -> str:
    """The message of a msgspec validation error without its ``- at `$...``` suffix."""
    return _PATH.sub("", str(error)).rstrip(" -")


def convert(value: Any, type_: type[T], *, prefix: str = "") -> T:
    """Validate ``value`` as ``type_``; raise :class:`InvalidJobInput` naming the bad field."""
    try:
        return msgspec.convert(value, type_, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidJobInput(field_of(error, prefix), reason_of(error)) from None


def decode_json(body: bytes, type_: type[T], *, prefix: str = "") -> T:
    """Decode and validate a JSON document as ``type_``; raise :class:`InvalidJobInput`."""
    try:
        return msgspec.json.decode(body, type=type_, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidJobInput(field_of(error, prefix), reason_of(error)) from None
    except msgspec.DecodeError as error:
        raise InvalidJobInput(prefix or "body", f"not valid JSON ({error})") from None
