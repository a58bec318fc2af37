"""Scheduled scans run by real workers (SQLite and PostgreSQL): once per interval across
two workers, never at start-up, per library when the host asks for it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import polling
from shisho_jobs import Database, Job, JobService, Library, Worker, get_plugin_manager, hookimpl
from shisho_jobs.context import JobContext
from shisho_jobs.schedule import ScheduleSettings
from shisho_jobs.watch import WatchSettings

INTERVAL = 3.0  # seconds between two scheduled scans
TIMEOUT = 40.0  # seconds; generous, the machine is shared


class _Host:
    """Libraries 1-3 of the test database; a scan does nothing but succeed."""

    def __init__(self, scan_interval: float | None = None) -> None:
        self.libraries = [
            Library(id=i, name=f"Library {i}", scan_interval=scan_interval if i == 2 else None)
            for i in (1, 2, 3)
        ]

    @hookimpl
    def list_libraries(self) -> list[Library]:
        return self.libraries

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        return next((lib for lib in self.libraries if lib.id == library_id), None)

    @hookimpl
    def scan_library(self, library: Library, context: JobContext) -> dict[str, Any]:
        return {"files": 0}


@contextmanager
def _workers(database: Database, host: _Host, schedule: ScheduleSettings) -> Iterator[None]:
    with ExitStack() as stack:
        for _ in range(2):
            worker = Worker(
                database,
                plugin_manager=get_plugin_manager(load_entry_points=False, plugins=[host]),
                poll_interval=0.05,
                watch=WatchSettings(enabled=False),
                schedule=schedule,
            )
            worker.start()
            stack.callback(worker.stop, 5.0)
        yield


def _scheduled(service: JobService) -> list[Job]:
    jobs = service.list_jobs_with_total()[0]
    return sorted((job for job in jobs if job.trigger == "schedule"), key=lambda job: job.id)


def test_two_workers_start_one_scheduled_scan_per_interval_never_at_start_up(
    database: Database, service: JobService
) -> None:
    started = time.monotonic()
    with _workers(database, _Host(), ScheduleSettings(INTERVAL)):
        first = polling.wait_until(lambda: _scheduled(service), timeout=TIMEOUT, what="a scan")
        waited = time.monotonic() - started
        polling.wait_until(
            lambda: len(_scheduled(service)) >= 3, timeout=TIMEOUT, what="three scheduled scans"
        )
    scans = _scheduled(service)
    assert waited >= INTERVAL  # never at start-up
    assert first[0].library_id is None
    assert all(job.library_id is None for job in scans)
    for earlier, later in itertools.pairwise(scans):
        # Once per interval across both workers: never two within one interval.
        assert (later.created_at - earlier.created_at).total_seconds() >= INTERVAL * 0.99


def test_a_library_with_its_own_interval_is_scanned_on_its_own(
    database: Database, service: JobService
) -> None:
    host = _Host(scan_interval=INTERVAL / 60)  # minutes
    with _workers(database, host, ScheduleSettings(None, check_seconds=INTERVAL / 4)):
        polling.wait_until(
            lambda: len(_scheduled(service)) >= 2, timeout=TIMEOUT, what="two library scans"
        )
    scans = _scheduled(service)
    assert {job.library_id for job in scans} == {2}
    for earlier, later in itertools.pairwise(scans):
        assert (later.created_at - earlier.created_at).total_seconds() >= INTERVAL * 0.99
