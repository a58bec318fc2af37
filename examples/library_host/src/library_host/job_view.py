"""What the job pages show of a job beyond its JSON: duration, trigger, result counts, warnings.

The job page renders these once on the server; ``static/job-live.js`` keeps them current with
the same words (keep the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec

from library_host.users import User
from shisho_jobs import JobStatus
from shisho_jobs.dto import Job, JobLog

TRIGGER_LABELS: Final = {
    "manual": "Started by hand",
    "watch": "Started by file changes",
    "schedule": "Started by the schedule",
    "retry": "Started again (retry)",
}
"""How the job page says what started a job (the list shows the bare trigger)."""

SCAN_COUNTS: Final = ("files", "added", "updated", "removed", "unchanged", "warnings")
"""A scan result's counts, in the order the page lists them."""

_FINISHED: Final = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True)
class WarningLine:
    """One ``warn`` line of a job: the file (or folder) it is about and why."""

    log_id: int
    path: str
    reason: str


def format_duration(seconds: float) -> str:
    """``"2 min 5 s"`` for 125 seconds; under a minute with one decimal (``"4.2 s"``)."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def duration_of(job: Job, now: datetime) -> str:
    """How long the job ran (so far, while it runs); an em dash before it started."""
    if job.started_at is None:
        return "—"
    end = job.finished_at or (None if job.status in _FINISHED else now)
    if end is None:
        return "—"
    return format_duration((end - job.started_at).total_seconds())


def result_counts(job: Job) -> list[tuple[str, int]] | None:
    """The result's counts as ``(name, value)`` pairs, or ``None`` when it has none of them."""
    result = _as_mapping(job.result)
    if result is None or not any(name in result for name in SCAN_COUNTS):
        return None
    return [(name, int(result.get(name) or 0)) for name in SCAN_COUNTS]


def result_text(job: Job) -> str:
    """A result that is not a scan's counts, as JSON (an em dash when there is none)."""
    if job.result is None:
        return "—"
    return msgspec.json.encode(job.result).decode()


def warning_lines(logs: Iterable[JobLog]) -> list[WarningLine]:
    """The job's ``warn`` lines, oldest first, each with its file and reason."""
    lines = []
    for log in logs:
        if log.level != "warn":
            continue
        data = log.data or {}
        path = data.get("path")
        reason = data.get("reason")
        lines.append(
            WarningLine(
                log_id=log.id,
                path=str(path) if path is not None else "",
                reason=str(reason) if reason is not None else log.message,
            )
        )
    return lines


def can_act_on(user: User, job: Job) -> bool:
    """Whether ``user`` may cancel or retry ``job``: ``jobs:write`` and access to its library
    (a global job: every library), the API's own rule."""
    if not user.access.can_write_jobs:
        return False
    if job.library_id is None:
        return user.library_ids is None
    return user.can_access_library(job.library_id)


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.asdict(value)
    return None
