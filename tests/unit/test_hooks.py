"""Every hook of hookspecs.py, exercised the way plugins and hosts use it.

The example plugin (tests/plugin_pkg, installed through its ``shisho`` entry
point) adds a job type, observes the job lifecycle and contributes a nav item,
with no change to the core. Jobs run in a real worker on a real SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from shisho_example_plugin import hooks as example

from polling import wait_until
from schema_support import create_schema
from shisho_jobs import (
    ActorAccess,
    Database,
    Job,
    JobService,
    JobStatus,
    Library,
    NavContext,
    Worker,
    get_plugin_manager,
    hookimpl,
)
from shisho_jobs.context import JobContext

TIMEOUT = 15.0  # seconds a job may take to finish here


class Host:
    """A minimal host: two libraries, a scanner that counts, and its own users."""

    def __init__(self) -> None:
        self.libraries = {1: Library(id=1, name="Books"), 2: Library(id=2, name="Comics")}
        self.scanned: list[tuple[int, int]] = []

    @hookimpl
    def list_libraries(self) -> list[Library]:
        return list(self.libraries.values())

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        return self.libraries.get(library_id)

    @hookimpl
    def scan_library(self, library: Library, context: JobContext) -> dict[str, Any]:
        self.scanned.append((context.job.id, library.id))
        context.log.info(f"reading {library.name}", {"files": 2})
        context.progress(1, 2)
        context.progress(2, 2)
        return {"files": 2}

    @hookimpl
    def actor_access(self, actor: Any) -> ActorAccess | None:
        if isinstance(actor, dict) and actor.get("kind") == "host-user":
            return ActorAccess(permissions=frozenset({"jobs:read"}), library_ids=frozenset({1}))
        return None


class NotMine:
    """An implementation that always lets another one answer."""

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        return None

    @hookimpl
    def scan_library(self, library: Library, context: JobContext) -> Any:
        return None


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'hooks.db'}")
    create_schema(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def manager(host: Host) -> pluggy.PluginManager:
    # Entry points on: the example plugin comes in the way any installed plugin does.
    manager = get_plugin_manager(plugins=[NotMine(), host])
    # The reference host is installed too; this test's Host stands in for it.
    if manager.get_plugin("library_host") is not None:
        manager.unregister(name="library_host")
    return manager


@pytest.fixture
def jobs(database: Database, manager: pluggy.PluginManager) -> JobService:
    return JobService(database, plugin_manager=manager)


@pytest.fixture
def worker(database: Database, manager: pluggy.PluginManager) -> Iterator[Worker]:
    worker = Worker(database, plugin_manager=manager, lease_seconds=5, poll_interval=0.1)
    worker.start()
    yield worker
    worker.stop(timeout=2)


@pytest.fixture(autouse=True)
def _fresh_observations() -> None:
    example.OBSERVED.clear()


def _finished(jobs: JobService, job: Job) -> Job:
    def finished() -> Job | None:
        current = jobs.retrieve_job(job.id)
        return current if current.status in ("completed", "failed") else None

    return wait_until(finished, timeout=TIMEOUT, what=f"job {job.id} finishes")


def test_the_example_plugin_is_found_through_its_entry_point() -> None:
    names = [name for name, _ in get_plugin_manager().list_name_plugin()]
    assert "shisho_example_plugin" in names
    assert "shisho_example_plugin" not in [
        name for name, _ in get_plugin_manager(load_entry_points=False).list_name_plugin()
    ]


def test_hook_list_libraries(manager: pluggy.PluginManager) -> None:
    libraries = manager.hook.list_libraries()
    assert [library.name for library in libraries] == ["Books", "Comics"]


def test_hook_get_library(manager: pluggy.PluginManager) -> None:
    # NotMine answers None first; firstresult moves on to the host.
    assert manager.hook.get_library(library_id=2) == Library(id=2, name="Comics")
    assert manager.hook.get_library(library_id=99) is None


def test_hook_scan_library(jobs: JobService, host: Host, worker: Worker) -> None:
    job = jobs.create_job("scan", library_id=2)

    done = _finished(jobs, job)

    assert done.status == JobStatus.COMPLETED
    assert host.scanned == [(job.id, 2)]
    logs = jobs.list_job_logs(job.id)
    assert ("reading Comics", {"files": 2}) in [(log.message, log.data) for log in logs]
    assert logs[-1].data == {"library_id": 2, "files": 2}


def test_hook_job_types(jobs: JobService, worker: Worker) -> None:
    assert {"scan", "export", example.GREET_TYPE} <= set(jobs.job_types.names)
    job = jobs.create_job(example.GREET_TYPE, {"name": "Ada"})

    done = _finished(jobs, job)

    assert done.status == JobStatus.COMPLETED
    (log,) = jobs.list_job_logs(job.id)
    assert (log.message, log.plugin, log.data) == (
        "Hello, Ada!",
        "shisho_example_plugin",
        {"name": "Ada"},
    )


def test_hook_actor_access(manager: pluggy.PluginManager) -> None:
    access = manager.hook.actor_access(actor={"kind": "host-user"})
    assert access.can_read_jobs and not access.can_write_jobs
    assert access.can_access_library(1) and not access.can_access_library(2)
    assert manager.hook.actor_access(actor="someone else") is None


def test_hook_nav_items(manager: pluggy.PluginManager) -> None:
    reader = NavContext(
        actor="ada", access=ActorAccess(permissions=frozenset({"jobs:read"})), library_id=2
    )
    nobody = NavContext(actor="eve", access=ActorAccess(), library_id=2)

    items = [
        item
        for items in manager.hook.nav_items(slot=example.NAV_SLOT, context=reader)
        for item in items
    ]

    assert [item.html for item in items] == [
        '<a data-testid="example-nav" href="/greetings">Greetings for library 2</a>'
    ]
    assert [i for i in manager.hook.nav_items(slot=example.NAV_SLOT, context=nobody) if i] == []
    other_slot = manager.hook.nav_items(slot="somewhere.else", context=reader)
    assert all("example-nav" not in item.html for items in other_slot for item in items)


def test_hook_job_created(jobs: JobService) -> None:
    job = jobs.create_job(example.GREET_TYPE)
    assert list(example.OBSERVED) == [("job_created", job.id, "pending")]


def test_hook_job_started(jobs: JobService, worker: Worker) -> None:
    job = _finished(jobs, jobs.create_job(example.GREET_TYPE))
    assert ("job_started", job.id, "in_progress") in example.OBSERVED


def test_hook_job_progress(jobs: JobService, worker: Worker) -> None:
    job = _finished(jobs, jobs.create_job(example.GREET_TYPE))
    progress = [entry for entry in example.OBSERVED if entry[0] == "job_progress"]
    assert progress and all(entry == ("job_progress", job.id, "in_progress") for entry in progress)


def test_hook_job_finished(jobs: JobService, worker: Worker) -> None:
    job = _finished(jobs, jobs.create_job(example.GREET_TYPE))
    # The hook runs right after the commit that other processes already see.
    wait_until(
        lambda: ("job_finished", job.id, "completed") in example.OBSERVED,
        timeout=TIMEOUT,
        what="job_finished is called",
    )
    lifecycle = [name for name, job_id, _ in example.OBSERVED if job_id == job.id]
    assert lifecycle[0] == "job_created"
    assert lifecycle[1] == "job_started"
    assert example.OBSERVED[-1] == ("job_finished", job.id, "completed")
