"""One run of one claimed job: its context, its handler call and how its outcome is written.

The outcome decides the final write, always fenced by the run's claim:

- handler returned: ``completed``, its return value stored as the job's ``result``;
- handler saw a cancel request (``context.cancelled``) and returned: ``cancelled``, with
  its result (what it did before it stopped);
- handler raised :class:`~shisho_jobs.context.JobFailed`: ``failed`` with its message;
- handler raised anything else: ``failed``, the stack trace in the job's logs;
  a failure is retried automatically when the job type allows it (``max_attempts``);
- the worker is shutting down: back to ``pending`` (a restart is not a failure), or
  ``cancelled`` when a cancel was asked for;
- the lease was lost (to another worker, or to the hard time limit): nothing is written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec
import pluggy
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.config import DEFAULT_STALL_SECONDS
from shisho_jobs.context import (
    MOVED_WRITE_INTERVAL,
    Cancellation,
    CancelReason,
    JobContext,
    JobLogger,
    ProgressTracker,
)
from shisho_jobs.db import is_connection_lost
from shisho_jobs.default_job_types import PLUGIN_NAME
from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import InvalidJobInput, JobFailed, LeaseLost, UnknownJobTypeFailure
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.retries import retry_delay
from shisho_jobs.visibility import ALL_LIBRARIES
from shisho_jobs.worker.store import Claim, ClaimRequest, LogLine, Outcome, WorkerStore

CONNECTION_LOST_MESSAGE: Final = (
    "The database connection was lost during the run; the job runs again once its lease expires."
)
INTERRUPTED_MESSAGE: Final = (
    "Interrupted because the worker is shutting down; re-queued for the next worker."
)
CANCELLED_MESSAGE: Final = "Cancelled on request."
CANCELLED_AT_SHUTDOWN_MESSAGE: Final = (
    "Interrupted because the worker is shutting down; cancelled, as was asked for."
)

_logger = logging.getLogger("shisho_jobs.worker")


def call_hook(manager: pluggy.PluginManager, name: str, **kwargs: Any) -> None:
    """Call an observer hook; a failing observer is logged and never breaks the worker."""
    try:
        getattr(manager.hook, name)(**kwargs)
    except Exception:
        _logger.exception("a %s hook implementation raised", name)


class _FencedSink:
    """Writes of a running job's logs and progress, fenced by its claim."""

    def __init__(self, run: JobRun) -> None:
        self._run = run

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
        line = LogLine(level, message, data, plugin, stack_trace, library_id)
        try:
            written = self._run.store.write_log(self._run.claim, line)
        except sa.exc.SQLAlchemyError:
            # A log line is not worth failing the job for; Python logging has it.
            _logger.exception("could not save a log line of job %s", self._run.claim.job_id)
            return
        if not written:
            self._run.cancellation.set(CancelReason.LEASE_LOST)
        elif level == LogLevel.WARN:
            # The job's warnings count changed: live views see it with the next progress.
            self._run.tracker.mark_changed()

    def write_progress(self, percent: int) -> None:
        run = self._run
        try:
            job = run.store.save_progress(run.claim, percent, lease_seconds=run.lease_seconds)
        except LeaseLost:
            run.cancellation.set(CancelReason.LEASE_LOST)
            return
        except sa.exc.SQLAlchemyError:
            _logger.exception("could not save the progress of job %s", run.claim.job_id)
            return
        call_hook(run.plugin_manager, "job_progress", job=job)

    def hold_claim(self, connection: Connection) -> None:
        run = self._run
        if not run.store.hold_claim(connection, run.claim):
            run.cancellation.set(CancelReason.LEASE_LOST)
            raise LeaseLost()


@dataclass
class JobRun:
    """A claimed job, run by one of the worker's slot threads."""

    job: Job
    spec: JobTypeSpec | None
    store: WorkerStore
    plugin_manager: pluggy.PluginManager
    lease_seconds: float
    claim: Claim = field(init=False)
    cancellation: Cancellation = field(init=False, default_factory=Cancellation)
    context: JobContext = field(init=False)
    done: threading.Event = field(init=False, default_factory=threading.Event)
    """Set once the handler returned and the outcome was written (or given up)."""
    _settle_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _settled: bool = field(init=False, default=False)
    _connection_lost: bool = field(init=False, default=False)
    """Set when the handler failed because the database connection was lost."""

    stall_seconds: float = DEFAULT_STALL_SECONDS
    """The job type's stall time: work that moves is written well within it."""
    job_types: JobTypeRegistry | None = None
    """Encodes the handler's result (its type's ``result_type``); ``None``: plain JSON."""
    _result: str | None = field(init=False, default=None)
    _retry_in: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.claim = Claim.of(self.job)
        sink = _FencedSink(self)
        plugin = self.spec.plugin if self.spec is not None else PLUGIN_NAME
        self.tracker = ProgressTracker(
            sink, moved_interval=min(MOVED_WRITE_INTERVAL, self.stall_seconds / 4)
        )
        self.context = JobContext(
            job=self.job,
            log=JobLogger(self.job, sink, plugin),
            plugin_manager=self.plugin_manager,
            _tracker=self.tracker,
            _cancellation=self.cancellation,
            _sink=sink,
        )

    def execute(self, claim_next: Callable[[], ClaimRequest | None] | None = None) -> Job | None:
        """Run the handler on the calling thread and write the outcome.

        Args:
            claim_next: asked once the handler is done; what it returns (if not
                ``None``) claims the next pending job in the transaction that
                writes this one's outcome (the slot runs it next).

        Returns:
            The job claimed next, if asked for and one was pending.
        """
        try:
            call_hook(self.plugin_manager, "job_started", job=self.job)
            failure = self._call_handler()
            if failure is not None:
                self._retry_in = self._retry_delay()
            return self.settle(failure, claim_next=None if claim_next is None else claim_next())
        finally:
            self.done.set()

    def _call_handler(self) -> LogLine | None:
        """Run the handler; the log line that explains its failure, or ``None``."""
        try:
            if self.spec is None:
                raise UnknownJobTypeFailure(
                    f"Unknown job type {self.job.type!r}: no installed plugin handles it."
                )
            returned = self.spec.handler(self.context)
            self._result = self._encode_result(returned)
        except JobFailed as failure:
            if failure.result is not None:
                self._result = self._failure_result(failure.result)
            return LogLine(
                LogLevel.ERROR,
                failure.message,
                plugin=self.context.log.plugin,
                library_id=self._failure_scope,
            )
        except Exception as error:
            if is_connection_lost(error):
                # The database went away under the handler's own writes: not the job's
                # fault, so no failure (see settle).
                self._connection_lost = True
                return None
            return LogLine(
                LogLevel.ERROR,
                f"Job failed: {type(error).__name__}: {error}",
                plugin=self.context.log.plugin,
                stack_trace=traceback.format_exc(),
                library_id=self._failure_scope,
            )
        return None

    def _encode_result(self, value: Any) -> str | None:
        """The handler's return value as stored JSON; a value that does not fit fails the job."""
        assert self.spec is not None
        if self.job_types is not None and self.spec.name in self.job_types:
            try:
                return self.job_types.encode_result(self.spec.name, value)
            except InvalidJobInput as error:
                raise JobFailed(
                    f"The handler's result does not fit {self._result_name()}: {error.message}"
                ) from None
        return None if value is None else msgspec.json.encode(value).decode()

    def _failure_result(self, value: Any) -> str | None:
        """What a failed run reported; one that does not fit is dropped (the failure stands)."""
        try:
            return self._encode_result(value)
        except JobFailed as unfit:
            _logger.warning("job %s: %s", self.job.id, unfit.message)
            return None

    def _result_name(self) -> str:
        result_type = self.spec.result_type if self.spec is not None else None
        return "its result type" if result_type is None else result_type.__name__

    def _retry_delay(self) -> float | None:
        """Seconds until the automatic retry of this failed run, or ``None`` for none."""
        spec = self.spec
        if spec is None or spec.max_attempts <= 1 or self.cancellation.is_set:
            return None
        try:
            runs = self.store.runs_in_chain(self.job.id, limit=spec.max_attempts)
        except sa.exc.SQLAlchemyError:
            _logger.exception("could not count the runs of job %s; no retry", self.job.id)
            return None
        return retry_delay(spec, runs)

    @property
    def _failure_scope(self) -> int | None:
        # The failure of a global job is its `error`, which may name any library: the line
        # saying it is about every library (shown where the error is, see visibility.py).
        return ALL_LIBRARIES if self.job.library_id is None else None

    def settle(
        self,
        failure: LogLine | None,
        *,
        claim_next: ClaimRequest | None = None,
        interrupted: bool = False,
    ) -> Job | None:
        """Write the run's outcome once (called after the handler, or by a stopping worker).

        Args:
            failure: why the handler failed, or ``None``.
            claim_next: what to claim in the same transaction.
            interrupted: the handler has not returned (a stopping worker gave up waiting):
                the job goes back to the queue (or ends cancelled, if that was asked for),
                whatever else it was told.

        Returns:
            The job claimed next (see :meth:`execute`), or ``None``.
        """
        with self._settle_lock:
            if self._settled:
                return None
            self._settled = True
        reason = self.cancellation.reason
        if interrupted and reason != CancelReason.LEASE_LOST:
            reason = CancelReason.SHUTDOWN
        if reason == CancelReason.LEASE_LOST:
            _logger.warning(
                "job %s was taken over by another worker; its result is dropped", self.job.id
            )
            return None
        if self._connection_lost:
            self._leave_to_rescue()
            return None
        try:
            job, next_job = self._write_outcome(reason, failure, claim_next)
        except LeaseLost:
            _logger.warning("job %s was taken over before its result was saved", self.job.id)
            return None
        except sa.exc.SQLAlchemyError:
            # The lease will expire and another worker will re-run the job.
            _logger.exception("could not save the outcome of job %s", self.job.id)
            return None
        call_hook(self.plugin_manager, "job_finished", job=job)
        return next_job

    def _leave_to_rescue(self) -> None:
        """Write no outcome: the lease expires and rescue re-runs the job.

        Rescue counts it as a crash (``crash_count``), so a job whose every run loses the
        database is failed after the crash limit instead of re-running forever, and the
        lease is the back-off before the next run.
        """
        _logger.warning(
            "job %s lost its database connection; it runs again once its lease expires",
            self.job.id,
        )
        line = LogLine(LogLevel.WARN, CONNECTION_LOST_MESSAGE, plugin=PLUGIN_NAME)
        # Still unreachable: the rescue's own log line will say what happened.
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            self.store.write_log(self.claim, line)

    def _write_outcome(
        self, reason: str | None, failure: LogLine | None, claim_next: ClaimRequest | None
    ) -> tuple[Job, Job | None]:
        if reason == CancelReason.SHUTDOWN:
            line = LogLine(LogLevel.INFO, INTERRUPTED_MESSAGE, plugin=PLUGIN_NAME)
            cancelled = LogLine(LogLevel.INFO, CANCELLED_AT_SHUTDOWN_MESSAGE, plugin=PLUGIN_NAME)
            return self.store.requeue(self.claim, log=line, cancelled_log=cancelled), None
        progress = self.tracker.latest
        retry_in = None
        # Cancelled only if the handler saw the request: one that never looked ran to its end.
        if failure is None and reason == CancelReason.REQUESTED and self.cancellation.observed:
            status, error = JobStatus.CANCELLED, None
            failure = LogLine(LogLevel.INFO, CANCELLED_MESSAGE, plugin=PLUGIN_NAME)
        elif failure is None:
            status, error = JobStatus.COMPLETED, None
        else:
            status, error = JobStatus.FAILED, failure.message.splitlines()[0][:500]
            retry_in = self._retry_in
        outcome = Outcome(status, progress, error, self._result, retry_in)
        return self.store.finish(self.claim, outcome, log=failure, claim_next=claim_next)
