"""One run of one claimed job: its context, its handler call and how its outcome is written.

The outcome decides the final write, always fenced by the run's claim:

- handler returned: ``completed``;
- handler raised :class:`~shisho_jobs.context.JobFailed`: ``failed`` with its message;
- handler raised anything else: ``failed``, the stack trace in the job's logs;
- the worker is shutting down: back to ``pending`` (a restart is not a failure);
- the lease was lost to another worker: nothing is written at all.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pluggy
import sqlalchemy as sa

from shisho_jobs.context import (
    Cancellation,
    CancelReason,
    JobContext,
    JobLogger,
    ProgressTracker,
)
from shisho_jobs.default_job_types import PLUGIN_NAME
from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import JobFailed, LeaseLost, UnknownJobTypeFailure
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.worker.store import Claim, ClaimRequest, LogLine, Outcome, WorkerStore

CANCELLED_ERROR: Final = "Cancelled"
INTERRUPTED_MESSAGE: Final = (
    "Interrupted because the worker is shutting down; re-queued for the next worker."
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
    ) -> None:
        line = LogLine(level, message, data, plugin, stack_trace)
        try:
            written = self._run.store.write_log(self._run.claim, line)
        except sa.exc.SQLAlchemyError:
            # A log line is not worth failing the job for; Python logging has it.
            _logger.exception("could not save a log line of job %s", self._run.claim.job_id)
            return
        if not written:
            self._run.cancellation.set(CancelReason.LEASE_LOST)

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

    def __post_init__(self) -> None:
        self.claim = Claim.of(self.job)
        sink = _FencedSink(self)
        plugin = self.spec.plugin if self.spec is not None else PLUGIN_NAME
        self.tracker = ProgressTracker(sink)
        self.context = JobContext(
            job=self.job,
            log=JobLogger(self.job, sink, plugin),
            plugin_manager=self.plugin_manager,
            _tracker=self.tracker,
            _cancellation=self.cancellation,
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
            self.spec.handler(self.context)
        except JobFailed as failure:
            return LogLine(LogLevel.ERROR, failure.message, plugin=self.context.log.plugin)
        except Exception as error:
            return LogLine(
                LogLevel.ERROR,
                f"Job failed: {type(error).__name__}: {error}",
                plugin=self.context.log.plugin,
                stack_trace=traceback.format_exc(),
            )
        return None

    def settle(
        self, failure: LogLine | None, *, claim_next: ClaimRequest | None = None
    ) -> Job | None:
        """Write the run's outcome once (called after the handler, or by a stopping worker).

        Returns:
            The job claimed next (see :meth:`execute`), or ``None``.
        """
        with self._settle_lock:
            if self._settled:
                return None
            self._settled = True
        reason = self.cancellation.reason
        if reason == CancelReason.LEASE_LOST:
            _logger.warning(
                "job %s was taken over by another worker; its result is dropped", self.job.id
            )
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

    def _write_outcome(
        self, reason: str | None, failure: LogLine | None, claim_next: ClaimRequest | None
    ) -> tuple[Job, Job | None]:
        if reason == CancelReason.SHUTDOWN:
            line = LogLine(LogLevel.INFO, INTERRUPTED_MESSAGE, plugin=PLUGIN_NAME)
            return self.store.requeue(self.claim, log=line), None
        progress = self.tracker.latest
        if failure is None and reason == CancelReason.REQUESTED:
            status, error = JobStatus.FAILED, CANCELLED_ERROR
            failure = LogLine(LogLevel.WARN, "Cancelled on request.", plugin=PLUGIN_NAME)
        elif failure is None:
            status, error = JobStatus.COMPLETED, None
        else:
            status, error = JobStatus.FAILED, failure.message.splitlines()[0][:500]
        outcome = Outcome(status, progress, error)
        return self.store.finish(self.claim, outcome, log=failure, claim_next=claim_next)
