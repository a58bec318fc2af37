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
from shisho_jobs.errors import JobFailed, LeaseLost

if TYPE_CHECKING:
    import pluggy
    from sqlalchemy.engine import Connection

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
MOVED_WRITE_INTERVAL = 30.0  # seconds between writes that only say the work moved
"""Work that moves within one percent is written this often, so it never looks stalled."""

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
        library_id: int | None = None,
    ) -> None:
        """Persist one log line of the job (dropped if the worker no longer owns it).

        ``library_id`` is the library the line is about (``None``: none in particular;
        :data:`shisho_jobs.visibility.ALL_LIBRARIES`: every library at once)."""

    def write_progress(self, percent: int) -> None:
        """Persist the job's progress (dropped if the worker no longer owns it)."""

    def hold_claim(self, connection: Connection) -> None:
        """Inside the caller's write transaction: check that the run still owns the job and
        keep it from being taken over until that transaction ends.

        Raises:
            LeaseLost: the job was taken over; the caller's transaction must not commit.
        """


class CancelReason:
    """Why a running job was asked to stop (values of :attr:`JobContext.cancel_reason`)."""

    SHUTDOWN = "shutdown"
    """The worker is stopping; the job goes back to the queue."""
    LEASE_LOST = "lease_lost"
    """Another worker took the job over; nothing more is written."""
    REQUESTED = "requested"
    """Someone asked for the job to be cancelled; it ends ``cancelled``."""


class Cancellation:
    """A thread-safe, set-once flag that remembers the first reason it was set for,
    and whether the handler saw it (a handler that never looked ran to its end)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self.observed = False
        """Whether the handler read ``context.cancelled`` while it was set."""

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

    A global job's lines about one library must say so (:meth:`about`): only users with
    access to that library receive them (CONTRACT section 4).

    Args:
        job: the job the lines belong to.
        sink: where lines are persisted.
        plugin: the plugin name shown beside each line.
        library_id: the library every line of this logger is about (``None``: none in
            particular; :data:`shisho_jobs.visibility.ALL_LIBRARIES`: all of them at once).
    """

    def __init__(
        self, job: Job, sink: JobSink, plugin: str | None, library_id: int | None = None
    ) -> None:
        self._job = job
        self._sink = sink
        self.plugin = plugin
        self.library_id = library_id
        self._tally = _WarnTally()

    @property
    def warnings_logged(self) -> int:
        """How many ``warn`` lines this run logged so far (through this logger or its
        :meth:`about` siblings: they share one tally)."""
        return self._tally.count

    def about(self, library_id: int | None) -> JobLogger:
        """A logger of the same job whose lines are about ``library_id``.

        Args:
            library_id: a library's id; :data:`shisho_jobs.visibility.ALL_LIBRARIES` for
                lines about every library at once (a summary naming several of them);
                ``None`` for lines about none in particular.
        """
        return self._sibling(self.plugin, library_id)

    def for_plugin(self, plugin: str) -> JobLogger:
        """The same job's logger, labelling its lines with ``plugin`` (the host's scanner)."""
        return self._sibling(plugin, self.library_id)

    def _sibling(self, plugin: str | None, library_id: int | None) -> JobLogger:
        # Siblings share the warnings tally: the job's count covers every line it wrote.
        sibling = JobLogger(self._job, self._sink, plugin, library_id)
        sibling._tally = self._tally
        return sibling

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
        if level == LogLevel.WARN:
            self._tally.add()
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
            library_id=self.library_id,
        )


class _WarnTally:
    """The ``warn`` lines of one run, counted across the loggers made from its logger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


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
    100 %; the latest value is always kept for the job's final write. With the
    percent unchanged, a report still writes when the work moved (``done`` grew)
    and ``moved_interval`` passed, so slow steady work never looks stalled, or when
    :meth:`mark_changed` said the job's JSON changed (a warning) and
    ``min_interval`` passed, so live views see it with the next report.
    """

    def __init__(
        self,
        sink: JobSink,
        *,
        min_interval: float = PROGRESS_MIN_INTERVAL,
        moved_interval: float = MOVED_WRITE_INTERVAL,
    ) -> None:
        self._sink = sink
        self._min_interval = min_interval
        self._moved_interval = moved_interval
        self._lock = threading.Lock()
        self._written = 0
        self._written_at = float("-inf")
        self._furthest = 0.0
        self._moved = False
        self._changed = False
        self.latest = 0
        """The latest percent reported, written or not."""

    def mark_changed(self) -> None:
        """The job's JSON changed without its progress: the next report writes (throttled)."""
        with self._lock:
            self._changed = True

    def report(self, percent: int, *, fraction: float | None = None) -> None:
        """Record ``percent`` (``fraction``: the exact share done) and write it unless throttled."""
        with self._lock:
            self.latest = percent
            if fraction is not None and fraction > self._furthest:
                self._furthest, self._moved = fraction, True
            now = time.monotonic()
            since = now - self._written_at
            if percent == self._written:
                if not (
                    (self._changed and since >= self._min_interval)
                    or (self._moved and since >= self._moved_interval)
                ):
                    return
            elif percent < 100 and since < self._min_interval:
                return
            self._written, self._written_at = percent, now
            self._moved = self._changed = False
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
    _sink: JobSink | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        """Whether the handler should stop now (worker shutdown, lost lease, a cancel
        request, or its hard time limit). A handler that sees ``True`` and returns ends
        ``cancelled`` (on request); what it returns is still saved as its result."""
        if self._cancellation.is_set:
            self._cancellation.observed = True
            return True
        return False

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
        self._tracker.report(min(100, max(0, int(overall * 100))), fraction=overall)

    def hold_claim(self, connection: Connection) -> None:
        """Fence the handler's own writes: call it first in each write transaction of yours.

        A worker cut off from the database can be presumed dead and its job given to
        another worker while its handler still runs; when it comes back, the job's own
        writes (progress, logs, the outcome) are refused, and this refuses yours: inside
        your transaction it raises :class:`~shisho_jobs.errors.LeaseLost` unless this
        run still owns the job (let it propagate so the transaction rolls back; the run
        stops and nothing of it is written). On PostgreSQL it also locks the job's row
        until your transaction ends, so the job cannot be taken over before your writes
        commit; on SQLite your write transaction already holds the database's lock.

        Args:
            connection: the connection of your write transaction, on the jobs' database
                (``session.connection()`` of an ORM session).

        Raises:
            LeaseLost: the job was taken over (or there is no worker run to check).
        """
        if self._sink is None:
            raise LeaseLost()
        self._sink.hold_claim(connection)

    def about_library(self, library_id: int | None) -> JobContext:
        """A context whose log lines are about ``library_id`` (see :meth:`JobLogger.about`).

        The global scan hands each library's ``scan_library`` such a context, so whatever
        the scanner logs reaches only the users who may see that library.
        """
        return replace(self, log=self.log.about(library_id))

    def part(self, index: int, count: int) -> JobContext:
        """A context whose ``progress`` covers only part ``index`` of ``count`` equal parts.

        Used by the global scan so each library's scan reports 0..100 % of its share.
        """
        start, end = self._progress_window
        width = (end - start) / max(count, 1)
        return replace(self, _progress_window=(start + width * index, start + width * (index + 1)))
