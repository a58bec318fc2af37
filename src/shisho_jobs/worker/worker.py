"""The worker: claims pending jobs, runs their handlers, keeps their leases, cleans up.

Reads top-down: :meth:`Worker.run` starts ``concurrency`` slot threads, each in
:meth:`Worker._slot_loop` → :meth:`Worker._process` (claim, run, write the outcome
and claim the next); the supervising :meth:`Worker._run_loop` renews leases and runs
the maintenance duties (presence, rescue, stall watch, hard limits, automatic retries,
retention, the optional periodic global scan, and any added with ``duties=``), see
:mod:`shisho_jobs.worker.maintenance`. The statements of each run go through the
worker's store (:mod:`shisho_jobs.worker.store`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Final

import pluggy
import sqlalchemy as sa

from shisho_jobs import config
from shisho_jobs.backoff import Backoff
from shisho_jobs.context import CancelReason
from shisho_jobs.db import Database, is_connection_lost
from shisho_jobs.dto import Job
from shisho_jobs.errors import LeaseLost
from shisho_jobs.plugins import (
    SCAN_HOOKS,
    get_plugin_manager,
    job_type_registry,
    warn_about_unanswered_hooks,
)
from shisho_jobs.schedule import ScheduleSettings
from shisho_jobs.service import JobService
from shisho_jobs.watch import WatchHealth, WatchSettings
from shisho_jobs.worker.duties import DutyTimes, built_in_duties, presence_duty, watch_duty
from shisho_jobs.worker.leases import RunningJobs
from shisho_jobs.worker.maintenance import Duty, Maintenance
from shisho_jobs.worker.runner import JobRun, call_hook
from shisho_jobs.worker.store import MAX_CRASHES, Claim, ClaimRequest, WorkerStore
from shisho_jobs.worker.wakeup import Wakeup, connect_wakeups

LEASE_SECONDS: Final = 30.0  # seconds a claim stays valid without a heartbeat
POLL_INTERVAL: Final = 1.0  # seconds between two looks at the queue without a wake-up
MAX_POLL_INTERVAL: Final = 1.0  # seconds; the fallback poll is never slower than this
GRACE_PERIOD: Final = 10.0  # seconds running handlers get to stop on shutdown
RETENTION_DAYS: Final = 30.0  # days finished jobs and their logs are kept
SHUTDOWN_STEP: Final = 0.1  # seconds between checks while handlers stop
START_TIMEOUT: Final = 10.0  # seconds start() waits for the worker to register

_logger = logging.getLogger("shisho_jobs.worker")


def _log_database_error(error: sa.exc.SQLAlchemyError, doing: str) -> None:
    """One line for a lost connection (expected during an outage), a stack trace otherwise."""
    if is_connection_lost(error):
        _logger.warning("database unreachable while %s: %s", doing, str(error).splitlines()[0])
    else:
        _logger.exception("database error while %s", doing)


def default_process_id() -> str:
    """A name for this worker unique across hosts and restarts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs jobs from one database until stopped.

    Args:
        database: the database (or its URL).
        plugin_manager: hooks and job types; by default
            :func:`~shisho_jobs.plugins.get_plugin_manager` (entry points included).
        concurrency: how many jobs run at once, each on its own thread.
        process_id: the worker's name in ``jobs.process_id``; unique by default.
        lease_seconds: how long a claim stays valid without a heartbeat; a job
            whose worker vanished is re-run this long after its last heartbeat.
        poll_interval: seconds between looks at the queue when nothing woke the
            worker (at most 1 s).
        retention_days: delete finished jobs older than this; ``None`` keeps them.
        global_scan_interval: deprecated (use ``schedule``): seconds between scheduled
            global scans; when given, it sets the schedule.
        grace_period: seconds running handlers get to stop on shutdown before
            their jobs are re-queued anyway.
        max_crashes: lost workers a job survives before it fails as "worker lost".
        duties: more maintenance duties to run beside the built-in ones
            (see :mod:`shisho_jobs.worker.maintenance`).
        stall_seconds: seconds without progress before a running job is marked stalled,
            for job types without their own; default ``SHISHO_STALL_SECONDS`` (600).
        watch: how the worker watches the folders of the libraries it can scan;
            default :meth:`WatchSettings.from_env` (``SHISHO_WATCH=0``: not at all).
        schedule: when scans start by themselves; default
            :meth:`ScheduleSettings.from_env` (``SHISHO_SCAN_INTERVAL_MINUTES``, 60).
    """

    def __init__(
        self,
        database: Database | str | sa.URL,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
        concurrency: int = 1,
        process_id: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_interval: float = POLL_INTERVAL,
        retention_days: float | None = RETENTION_DAYS,
        global_scan_interval: float | None = None,
        grace_period: float = GRACE_PERIOD,
        max_crashes: int = MAX_CRASHES,
        duties: Iterable[Duty] = (),
        stall_seconds: float | None = None,
        watch: WatchSettings | None = None,
        schedule: ScheduleSettings | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        if lease_seconds <= 0 or poll_interval <= 0 or grace_period < 0:
            raise ValueError("lease_seconds and poll_interval must be positive")
        if global_scan_interval is not None and global_scan_interval <= 0:
            raise ValueError("global_scan_interval must be positive (or None for never)")
        self._owns_database = not isinstance(database, Database)
        self.database = database if isinstance(database, Database) else Database(database)
        self.plugin_manager = plugin_manager or get_plugin_manager()
        self.job_types = job_type_registry(self.plugin_manager)
        self.service = JobService(
            self.database, job_types=self.job_types, plugin_manager=self.plugin_manager
        )
        self.store = WorkerStore(self.database, self.job_types)
        self.concurrency = concurrency
        self.process_id = process_id or default_process_id()
        self.lease_seconds = lease_seconds
        self.poll_interval = min(poll_interval, MAX_POLL_INTERVAL)
        self.retention_days = retention_days
        if global_scan_interval is not None:
            schedule = ScheduleSettings(global_interval_seconds=global_scan_interval)
        self.schedule = ScheduleSettings.from_env() if schedule is None else schedule
        self.grace_period = grace_period
        self.max_crashes = max_crashes
        self.stall_seconds = config.stall_seconds() if stall_seconds is None else stall_seconds
        if self.stall_seconds <= 0:
            raise ValueError("stall_seconds must be positive")

        self._wakeup = Wakeup()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._ready = threading.Event()
        self._running = RunningJobs(
            self.store, lease_seconds=self.lease_seconds, poll_interval=self.poll_interval
        )
        self._thread: threading.Thread | None = None
        self._claim_request = ClaimRequest(self.process_id, self.lease_seconds)
        self.presence = presence_duty(
            self.service,
            self.database,
            self.job_types,
            process_id=self.process_id,
            concurrency=concurrency,
            lease_seconds=self.lease_seconds,
        )
        self._watch = watch_duty(
            WatchSettings.from_env() if watch is None else watch,
            service=self.service,
            store=self.store,
            database=self.database,
            plugin_manager=self.plugin_manager,
            process_id=self.process_id,
        )
        built_in = built_in_duties(
            self.service,
            self.store,
            self.database,
            self.job_types,
            self.plugin_manager,
            times=DutyTimes(
                lease_seconds=self.lease_seconds,
                poll_interval=self.poll_interval,
                max_crashes=self.max_crashes,
                stall_seconds=self.stall_seconds,
                retention_days=self.retention_days,
                schedule=self.schedule,
            ),
            presence=self.presence,
            watch=self._watch,
            on_rescued=self._rescued,
            on_stopped_at_limit=self._stopped_at_limit,
        )
        self.maintenance = Maintenance([*built_in, *duties])

    def watch_health(self) -> list[WatchHealth]:
        """How this worker watches each library's folder; ``[]`` when it does not watch."""
        return [] if self._watch is None else self._watch.health()

    def add_duty(self, duty: Duty) -> None:
        """Run one more maintenance duty (before :meth:`run`, or while running)."""
        self.maintenance.add(duty)

    # --- life cycle ---------------------------------------------------------------------------

    def run(self) -> None:
        """Run jobs until :meth:`stop` (or :meth:`request_stop`) is called; blocks."""
        self._stopped.clear()
        disconnect = connect_wakeups(self.database, self._wakeup)
        slots = [
            threading.Thread(target=self._slot_loop, name=f"shisho-slot-{index}", daemon=True)
            for index in range(self.concurrency)
        ]
        try:
            self.presence.register()
        except sa.exc.SQLAlchemyError:
            _logger.exception("could not register worker %s; retrying", self.process_id)
        finally:
            self._ready.set()
        _logger.info("worker %s started (concurrency %d)", self.process_id, self.concurrency)
        warn_about_unanswered_hooks(
            self.plugin_manager,
            SCAN_HOOKS,
            who=f"worker {self.process_id}",
            consequence="scans of the host's libraries will fail",
        )
        try:
            for slot in slots:
                slot.start()
            self._run_loop()
        finally:
            try:
                self._shut_down(slots)
                self._deregister()
            finally:
                if self._watch is not None:
                    self._watch.close()
                disconnect()
                if self._owns_database:
                    self.database.dispose()
                _logger.info("worker %s stopped", self.process_id)
                self._stopped.set()

    def start(self) -> None:
        """Run the worker on a background thread (for a web host's in-process worker).

        Returns once the worker is registered, so jobs created from then on know that a
        worker runs them (at most :data:`START_TIMEOUT` seconds).
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the worker is already running")
        self._stopping.clear()
        self._stopped.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self.run, name="shisho-worker", daemon=True)
        self._thread.start()
        self._ready.wait(START_TIMEOUT)

    def request_stop(self) -> None:
        """Ask the worker to stop without waiting (safe from signal handlers)."""
        self._stopping.set()
        self._wakeup.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, ask running handlers to stop, re-queue what they leave, and wait.

        Args:
            timeout: seconds handlers get to stop (default: ``grace_period``);
                jobs still running after that are re-queued anyway.
        """
        if timeout is not None:
            self.grace_period = max(0.0, timeout)
        self.request_stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:
            self._stopped.wait()

    @property
    def running_job_ids(self) -> list[int]:
        """Ids of the jobs this worker is running now."""
        return self._running.job_ids()

    # --- the loops ----------------------------------------------------------------------------

    def _run_loop(self) -> None:
        """The supervising loop: maintenance duties and heartbeats until asked to stop."""
        while not self._stopping.is_set():
            self.maintenance.run_due()
            try:
                self._running.renew_leases()
                self._running.check_cancel_requests()
            except sa.exc.SQLAlchemyError as error:
                # Heartbeats are retried at the next one (a third of the lease later).
                _log_database_error(error, "renewing leases; retrying at the next heartbeat")
            self._stopping.wait(self._seconds_until_next_duty())

    def _slot_loop(self) -> None:
        """One of ``concurrency`` slots: claim a job, run it, repeat; sleep when idle.

        While the queue is busy a slot writes a job's outcome and claims the next
        job in one transaction, and never waits for another thread.
        """
        next_job: Job | None = None
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                if next_job is None:
                    next_job = self.store.claim_next(self._claim_request)
                backoff.succeeded()
                if next_job is None:
                    self._wakeup.wait(self.poll_interval)
                    continue
                next_job = self._process(next_job)
            except sa.exc.SQLAlchemyError as error:
                delay = backoff.failed()
                _log_database_error(error, f"claiming a job; retrying in {delay:g} s")
                next_job = None
                self._stopping.wait(delay)
        if next_job is not None:
            self._hand_back(next_job)
        self._wakeup.set()  # pass the stop on to the other idle slots

    def _hand_back(self, job: Job) -> None:
        """Re-queue a job claimed together with the previous outcome but never started."""
        try:
            self.store.requeue(Claim.of(job))
        except (LeaseLost, sa.exc.SQLAlchemyError):
            _logger.exception("could not hand job %s back; its lease will expire", job.id)

    def _process(self, job: Job) -> Job | None:
        """Run a claimed job on this thread; the next job claimed with its outcome, if any."""
        spec = self.job_types.get(job.type) if job.type in self.job_types else None
        run = JobRun(
            job=job,
            spec=spec,
            store=self.store,
            plugin_manager=self.plugin_manager,
            lease_seconds=self.lease_seconds,
            stall_seconds=self.stall_seconds
            if spec is None or spec.stall_seconds is None
            else spec.stall_seconds,
            job_types=self.job_types,
        )
        self._running.add(run)
        try:
            return run.execute(self._next_claim_request)
        finally:
            self._running.remove(job.id)

    def _next_claim_request(self) -> ClaimRequest | None:
        """What to claim with the outcome just written: nothing once stopping."""
        return None if self._stopping.is_set() else self._claim_request

    def _seconds_until_next_duty(self) -> float:
        wait = min(self.poll_interval, self.maintenance.seconds_until_next())
        return max(min(wait, self._running.seconds_until_due()), 0.0)

    # --- told by the duties -------------------------------------------------------------------

    def _stopped_at_limit(self, job: Job) -> None:
        """A job reached its hard time limit: if it runs here, its handler is told to stop."""
        run = self._running.get(job.id)
        if run is not None and run.claim.attempt == job.attempt:
            run.cancellation.set(CancelReason.LEASE_LOST)
        call_hook(self.plugin_manager, "job_finished", job=job)

    def _deregister(self) -> None:
        try:
            self.presence.deregister()
        except sa.exc.SQLAlchemyError:
            _logger.exception("could not delete the row of worker %s; it expires", self.process_id)

    def _rescued(self, job: Job) -> None:
        """A job of a lost worker was taken back: tell observers, and look at the queue."""
        call_hook(self.plugin_manager, "job_finished", job=job)
        self._wakeup.set()

    # --- shutdown -----------------------------------------------------------------------------

    def _shut_down(self, slots: list[threading.Thread]) -> None:
        """Ask running handlers to stop; re-queue the jobs of those that do not in time."""
        self._stopping.set()
        self._wakeup.set()
        runs = self._running.runs()
        for run in runs:
            run.cancellation.set(CancelReason.SHUTDOWN)
        started = time.monotonic()
        # grace_period is re-read on every step: a second signal may shorten it.
        while any(slot.is_alive() for slot in slots):
            remaining = started + self.grace_period - time.monotonic()
            if remaining <= 0:
                break
            for slot in slots:
                slot.join(min(remaining, SHUTDOWN_STEP))
        for run in runs:
            if not run.done.is_set():
                _logger.warning("job %s did not stop in time; re-queuing it", run.job.id)
                run.settle(None, interrupted=True)
