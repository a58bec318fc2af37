"""The worker's built-in maintenance duties, built from its settings.

Which duties a worker runs depends on what it was given: hard limits only when a job type
has a ``timeout``, retries only when one allows more than one attempt, retention only when
finished jobs are not kept for ever, folder watching only unless ``SHISHO_WATCH=0``. The
:class:`~shisho_jobs.worker.worker.Worker` runs whatever this module builds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pluggy

from shisho_jobs.db import Database
from shisho_jobs.dto import Job
from shisho_jobs.registry import JobTypeRegistry
from shisho_jobs.schedule import ScheduleSettings
from shisho_jobs.service import JobService
from shisho_jobs.watch import LibraryWatcher, WatchSettings, WorkerScanStarter
from shisho_jobs.worker.maintenance import Duty
from shisho_jobs.worker.maintenance.hard_limits import StopTimedOutJobs
from shisho_jobs.worker.maintenance.presence import KeepWorkerRegistered
from shisho_jobs.worker.maintenance.rescue import RescueExpiredLeases
from shisho_jobs.worker.maintenance.retention import Retention
from shisho_jobs.worker.maintenance.retries import RetryFailedJobs
from shisho_jobs.worker.maintenance.scheduled_scans import ScheduledScans
from shisho_jobs.worker.maintenance.stalls import FlagStalledJobs
from shisho_jobs.worker.maintenance.watch import WatchLibraries
from shisho_jobs.worker.store import WorkerStore
from shisho_jobs.workers import WorkerRegistration


@dataclass(frozen=True, slots=True)
class DutyTimes:
    """The worker's settings the built-in duties run by.

    Attributes:
        lease_seconds: how long a claim stays valid without a heartbeat.
        poll_interval: seconds between two runs of the frequent duties.
        max_crashes: lost workers a job survives before it fails as "worker lost".
        stall_seconds: seconds without progress before a running job is marked stalled.
        retention_days: delete finished jobs older than this; ``None`` keeps them.
        schedule: when scans start by themselves.
    """

    lease_seconds: float
    poll_interval: float
    max_crashes: int
    stall_seconds: float
    retention_days: float | None
    schedule: ScheduleSettings


def presence_duty(
    service: JobService,
    database: Database,
    job_types: JobTypeRegistry,
    *,
    process_id: str,
    concurrency: int,
    lease_seconds: float,
) -> KeepWorkerRegistered:
    """This worker's row in ``workers``, renewed three times per lease."""
    return KeepWorkerRegistered(
        service,
        database,
        WorkerRegistration(
            id=process_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            concurrency=concurrency,
            job_types=job_types.names,
        ),
        lease_seconds=lease_seconds,
        interval=lease_seconds / 3,
    )


def watch_duty(
    settings: WatchSettings,
    *,
    service: JobService,
    store: WorkerStore,
    database: Database,
    plugin_manager: pluggy.PluginManager,
    process_id: str,
) -> WatchLibraries | None:
    """The folder watch, unless watching is off (then no watcher exists at all)."""
    if not settings.enabled:
        return None
    watcher = LibraryWatcher(
        list_libraries=plugin_manager.hook.list_libraries,
        starter=WorkerScanStarter(service, store),
        settings=settings,
        process_id=process_id,
    )
    return WatchLibraries(watcher, database, process_id)


def built_in_duties(
    service: JobService,
    store: WorkerStore,
    database: Database,
    job_types: JobTypeRegistry,
    plugin_manager: pluggy.PluginManager,
    *,
    times: DutyTimes,
    presence: KeepWorkerRegistered,
    watch: WatchLibraries | None,
    on_rescued: Callable[[Job], None],
    on_stopped_at_limit: Callable[[Job], None],
) -> list[Duty]:
    """The duties every worker runs, and those its job types and settings call for."""
    duties: list[Duty] = [
        RescueExpiredLeases(
            store,
            lease_seconds=times.lease_seconds,
            interval=times.poll_interval,
            max_crashes=times.max_crashes,
            on_rescued=on_rescued,
        ),
        FlagStalledJobs(database, job_types, times.stall_seconds, interval=times.poll_interval),
        # Registered in run(): its first renewal can wait behind the other duties.
        presence,
    ]
    hard_limits = StopTimedOutJobs(
        database, job_types, times.poll_interval, on_stopped=on_stopped_at_limit
    )
    if hard_limits.has_limits:
        duties.append(hard_limits)
    if any(job_types.get(name).max_attempts > 1 for name in job_types.names):
        duties.append(RetryFailedJobs(service, database, job_types, times.poll_interval))
    if times.retention_days is not None:
        duties.append(Retention(service, service.outbox, times.retention_days))
    duties.append(ScheduledScans(service, plugin_manager.hook.list_libraries, times.schedule))
    if watch is not None:
        duties.append(watch)
    return duties
