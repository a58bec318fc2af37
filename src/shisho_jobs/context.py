"""What a job handler gets: the job, a logger, progress reporting and a cancellation flag.

A :class:`JobContext` is created by the worker for one run of one job and is
frozen; the handler reads ``context.job``, writes through ``context.log`` and
``context.progress(done, total)`` and returns early once ``context.cancelled``
is set. Every write goes through a :class:`JobSink` that the worker fences by
owner and attempt, so a worker that lost its job writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from shisho_jobs.enums import LogLevel

# JobFailed lives in shisho_jobs.errors; handlers that import it from here keep working.
from shisho_jobs.errors import JobFailed

if TYPE_CHECKING:
    import pluggy

    from shisho_jobs.dto import Job

__all__ = [
    "PROGRESS_MIN_INTERVAL",
    "CancelReason",
    "Cancellation",
    "JobContext",
    "JobFailed",
    "JobLogger",
    "JobSink",
    "ProgressTracker",
]

PROGRESS_MIN_INTERVAL = 0.5  # seconds between two progress writes of one job
"""Progress is saved at most this often (the first and the final 100 % always are)."""

_python_logger = logging.getLogger("shisho_jobs.job")


class JobSink(Protocol):
    """Where a running job's log lines and progress go (the worker's fenced writes)."""

    def write_log(
        self,
        *,
        level: LogLevel,
        message: str,
        data: dict[str, Any] | None,
        plugin: str | None,
        stack_trace: str | None,
    ) -> None:
        """Persist one log line of the job (dropped if the worker no longer owns it)."""

    def write_progress(self, percent: int) -> None:
        """Persist the job's progress (dropped if the worker no longer owns it)."""


class CancelReason:
    """Why a running job was asked to stop (values of :attr:`JobContext.cancel_reason`)."""

    SHUTDOWN = "shutdown"
    """The worker is stopping; the job goes back to the queue."""
    LEASE_LOST = "lease_lost"
    """Another worker took the job over; nothing more is written."""
    REQUESTED = "requested"
    """Someone asked for the job to be cancelled; it fails as cancelled."""


class Cancellation:
    """A thread-safe, set-once flag that remembers the first reason it was set for."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None

    def set(self, reason: str) -> None:
        """Ask the job to stop; the first reason wins."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
        self._event.set()

    @property
    def is_set(self) -> bool:
        """Whether the job was asked to stop."""
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """The first reason given, or ``None``."""
        return self._reason


class JobLogger:
    """Logs of one job: saved to ``job_logs`` and sent to Python logging.

    Args:
        job: the job the lines belong to.
        sink: where lines are persisted.
        plugin: the plugin name shown beside each line.
    """

    def __init__(self, job: Job, sink: JobSink, plugin: str | None) -> None:
        self._job = job
        self._sink = sink
        self.plugin = plugin

    def for_plugin(self, plugin: str) -> JobLogger:
        """The same job's logger, labelling its lines with ``plugin`` (the host's scanner)."""
        return JobLogger(self._job, self._sink, plugin)

    def debug(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Log a detail useful when investigating."""
        self._log(LogLevel.DEBUG, message, data)

    def info(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Log a step of the job."""
        self._log(LogLevel.INFO, message, data)

    def warn(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Log something that went wrong without failing the job (an unreadable file)."""
        self._log(LogLevel.WARN, message, data)

    def error(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Log an error."""
        self._log(LogLevel.ERROR, message, data)

    def exception(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Log an error with the stack trace of the exception being handled."""
        self._log(LogLevel.ERROR, message, data, stack_trace=traceback.format_exc())

    def _log(
        self,
        level: LogLevel,
        message: str,
        data: dict[str, Any] | None,
        *,
        stack_trace: str | None = None,
    ) -> None:
        python_level = {
            LogLevel.DEBUG: logging.DEBUG,
            LogLevel.INFO: logging.INFO,
            LogLevel.WARN: logging.WARNING,
            LogLevel.ERROR: logging.ERROR,
        }[level]
        _python_logger.log(
            python_level,
            "job %s (%s): %s%s",
            self._job.id,
            self._job.type,
            message,
            f" {data}" if data else "",
            exc_info=stack_trace is not None,
        )
        self._sink.write_log(
            level=level,
            message=message,
            data=_jsonable(data),
            plugin=self.plugin,
            stack_trace=stack_trace,
        )


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``data`` as plain JSON values; anything msgspec cannot encode becomes its ``repr``."""
    if data is None:
        return None
    result: dict[str, Any] = msgspec.to_builtins(data, enc_hook=repr, str_keys=True)
    return result


class ProgressTracker:
    """Turns ``progress(done, total)`` calls into throttled percent writes.

    A write happens when the whole percent changed and at least
    :data:`PROGRESS_MIN_INTERVAL` passed since the last write, or when it reaches
    100 %; the latest value is always kept for the job's final write.
    """

    def __init__(self, sink: JobSink, *, min_interval: float = PROGRESS_MIN_INTERVAL) -> None:
        self._sink = sink
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._written = 0
        self._written_at = float("-inf")
        self.latest = 0
        """The latest percent reported, written or not."""

    def report(self, percent: int) -> None:
        """Record ``percent`` and write it unless throttled."""
        with self._lock:
            self.latest = percent
            if percent == self._written:
                return
            now = time.monotonic()
            if percent < 100 and now - self._written_at < self._min_interval:
                return
            self._written, self._written_at = percent, now
        self._sink.write_progress(percent)


@dataclass(frozen=True)
class JobContext:
    """The running job as its handler sees it.

    Attributes:
        job: the job as claimed (``in_progress``, this run's ``attempt``).
        log: the job's logger.
        plugin_manager: the worker's plugin manager, for calling hooks.
    """

    job: Job
    log: JobLogger
    plugin_manager: pluggy.PluginManager
    _tracker: ProgressTracker = field(repr=False)
    _cancellation: Cancellation = field(repr=False)
    _progress_window: tuple[float, float] = field(default=(0.0, 1.0), repr=False)

    @property
    def cancelled(self) -> bool:
        """Whether the handler should stop now (worker shutdown, lost lease, or a request)."""
        return self._cancellation.is_set

    @property
    def cancel_reason(self) -> str | None:
        """Why the handler was asked to stop (a :class:`CancelReason` value), or ``None``."""
        return self._cancellation.reason

    def progress(self, done: int | float, total: int | float) -> None:
        """Report that ``done`` of ``total`` units of work are finished.

        Cheap to call often: writes are throttled. Values outside 0..total are clamped.
        """
        fraction = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
        start, end = self._progress_window
        overall = start + (end - start) * fraction
        self._tracker.report(min(100, max(0, int(overall * 100))))

    def part(self, index: int, count: int) -> JobContext:
        """A context whose ``progress`` covers only part ``index`` of ``count`` equal parts.

        Used by the global scan so each library's scan reports 0..100 % of its share.
        """
        start, end = self._progress_window
        width = (end - start) / max(count, 1)
        return replace(self, _progress_window=(start + width * index, start + width * (index + 1)))
