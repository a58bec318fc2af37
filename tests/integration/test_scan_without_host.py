"""A scan tells what is wrong with the host's plugin set-up, and the host's log lines carry
the host's name (issue 14, problems 1 and 7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pluggy
import pytest
from worker_support import FINISHED, wait_for_status

from schema_support import create_schema
from shisho_jobs import (
    Database,
    JobContext,
    JobService,
    JobStatus,
    Library,
    Worker,
    get_plugin_manager,
    hookimpl,
)


class ScannerOnly:
    """A host module that was half found: it scans, but nothing looks libraries up."""

    @hookimpl
    def scan_library(self, library: Library, context: JobContext) -> dict[str, Any]:
        context.log.warn("one unreadable file", {"file": "bad.epub"})
        return {"files": 1}


class FullHost(ScannerOnly):
    """A host answering the library hooks too; library 2 does not exist any more."""

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        return Library(id=1, name="Books") if library_id == 1 else None

    @hookimpl
    def list_libraries(self) -> list[Library]:
        return [Library(id=1, name="Books")]


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    create_schema(database)
    try:
        yield database
    finally:
        database.dispose()


def _run_scan(database: Database, manager: pluggy.PluginManager, library_id: int) -> Any:
    service = JobService(database, plugin_manager=manager)
    worker = Worker(database, plugin_manager=manager, poll_interval=0.05)
    worker.start()
    try:
        job = service.create_job("scan", library_id=library_id)
        return service, wait_for_status(service, job.id, FINISHED)
    finally:
        worker.stop(timeout=5)


def test_a_scan_nobody_looks_up_names_the_missing_hook(database: Database) -> None:
    manager = get_plugin_manager(load_entry_points=False, plugins=[ScannerOnly()])
    _, job = _run_scan(database, manager, 1)
    assert job.status == JobStatus.FAILED
    assert job.error == "No plugin answered get_library: is the host's plugin installed?"


def test_a_library_the_host_does_not_know_still_no_longer_exists(database: Database) -> None:
    manager = get_plugin_manager(load_entry_points=False, plugins=[FullHost()])
    _, job = _run_scan(database, manager, 2)
    assert job.status == JobStatus.FAILED
    assert job.error == "Library 2 no longer exists; there is nothing to scan."


def test_the_hosts_log_lines_carry_the_hosts_name(database: Database) -> None:
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(FullHost(), name="myhost.hooks")
    service, job = _run_scan(database, manager, 1)
    assert job.status == JobStatus.COMPLETED
    labels = {line.message: line.plugin for line in service.list_job_logs(job.id)}
    assert labels["one unreadable file"] == "myhost.hooks"
    assert labels["Scanning library 'Books'"] == "shisho_jobs"
