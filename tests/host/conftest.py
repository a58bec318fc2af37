"""Fixtures of the reference host's tests: a migrated host database on SQLite and PostgreSQL,
and scan jobs run the way production runs them (a JobService creates them, a Worker runs them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pluggy
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from library_host import catalog, migrate
from library_host.app import create_app
from library_host.database import get_database
from library_host.demo import prepare_demo
from library_host.settings import HostSettings
from polling import wait_until
from shisho_jobs import Database, JobService, Library, Worker, get_plugin_manager
from shisho_jobs.dto import Job, JobLog
from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.outbox import EVENT_PROGRESS
from shisho_jobs.schema import JobEventRow
from shisho_jobs.watch import WatchSettings

DEADLINE = 30.0  # seconds a scan job gets to finish (or to stop)
FALLBACK_POLL = 0.5  # seconds between two looks at the job if no commit woke the test

T = TypeVar("T")


def url_text(url: str | sa.URL) -> str:
    """A database URL as text, password included (tests hand it to other processes)."""
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


def csrf_token(client: TestClient, path: str = "/login") -> str:  # type: ignore[type-arg]
    """The CSRF token of the form on the page at ``path`` (which also sets the cookie)."""
    match = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str | None = None) -> None:  # type: ignore[type-arg]
    """Sign in through the login form (a demo user's password is their name)."""
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": username if password is None else password,
            "_csrf_token": csrf_token(client),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def small_demo(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str | sa.URL | None,
    *,
    books: int,
    comics: int,
    **changes: Any,
) -> HostSettings:
    """The settings of a host with no in-process worker, whose small demo is prepared.

    Args:
        data_dir: the host's data dir (``SHISHO_DATA_DIR``).
        monkeypatch: sets the host's environment for the test only.
        database_url: the engine under test; ``None`` for the host's own SQLite file in
            ``data_dir``.
        books: how many books the demo's Books library gets.
        comics: how many comics its Comics library gets.
        changes: settings that differ from what the environment gives.
    """
    monkeypatch.setenv("SHISHO_DATA_DIR", str(data_dir))
    if database_url is None:
        monkeypatch.delenv("SHISHO_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("SHISHO_DATABASE_URL", url_text(database_url))
    monkeypatch.setenv("SHISHO_INPROCESS_WORKER", "0")
    settings = replace(HostSettings.from_env(), **changes)
    prepare_demo(settings, books=books, comics=comics)
    return settings


@pytest.fixture
def small_demo_on_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | sa.URL
) -> Callable[..., HostSettings]:
    """:func:`small_demo` in the test's own data dir, on the engine under test (so the test
    runs on SQLite and on PostgreSQL); called with the demo's counts and settings changes."""
    return partial(small_demo, tmp_path / "data", monkeypatch, database_url)


@contextmanager
def host_client(settings: HostSettings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """A test client of a host made from ``settings``; its database's engine is disposed of
    after, so that no connection outlives the test's database."""
    with TestClient(app=create_app(settings)) as client:
        yield client
    get_database(settings.database_url).dispose()


@pytest.fixture
def host_database(
    database_url: str | sa.URL, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A fresh database migrated like the demo's (host tables, then jobs tables).

    ``SHISHO_DATABASE_URL`` points at it, so the host's hooks use it too.
    """
    url = url_text(database_url)
    migrate.upgrade(url)
    monkeypatch.setenv("SHISHO_DATABASE_URL", url)
    database = get_database(url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def library(host_database: Database, tmp_path: Path) -> Library:
    """Library 1, whose folder is an empty temporary folder."""
    folder = tmp_path / "library"
    folder.mkdir()
    catalog.ensure_library(host_database, 1, "Books", str(folder))
    found = catalog.get_library(host_database, 1)
    assert found is not None
    return found


def wait_for(database: Database, found: Callable[[], T | None], what: str) -> T:
    """Wait until ``found()`` returns something, looking again after each commit.

    Args:
        database: the database whose notifying commits (the worker's) wake the wait.
        found: returns the awaited value, or ``None`` while it is not there yet.
        what: what is awaited, for the failure message.

    Returns:
        The first value ``found()`` returned.
    """
    changed = threading.Event()
    stop_listening = database.on_commit(changed.set)
    try:
        return wait_until(found, timeout=DEADLINE, what=what, interval=FALLBACK_POLL, wake=changed)
    finally:
        stop_listening()


class Scans:
    """Scan jobs of the host, created through :class:`JobService` and run by a real
    :class:`Worker` whose plugin manager holds the host's hooks (``library_host.hooks``,
    which find this database through ``SHISHO_DATABASE_URL``)."""

    def __init__(self, database: Database, plugin_manager: pluggy.PluginManager) -> None:
        self.database = database
        self.plugin_manager = plugin_manager
        self.service = JobService(database, plugin_manager=plugin_manager)

    def create(self, library_id: int = 1, *, force: bool = False) -> Job:
        """Queue a scan of the library, as the resync button does."""
        return self.service.create_job("scan", {"force": force}, library_id=library_id)

    @contextmanager
    def worker(self) -> Iterator[Worker]:
        """A worker running on a background thread until the block ends (then stopped)."""
        # Not watching: these tests start each scan themselves (test_watching_worker.py
        # is about the watch scans).
        worker = Worker(
            self.database,
            plugin_manager=self.plugin_manager,
            poll_interval=0.05,
            watch=WatchSettings(enabled=False),
        )
        worker.start()
        try:
            yield worker
        finally:
            worker.stop(timeout=DEADLINE)

    def run(self, job: Job) -> Job:
        """Let a worker run the queued ``job`` to its end; the job as the worker left it."""
        with self.worker():
            return self.wait_until_finished(job)

    def scan(self, library_id: int = 1, *, force: bool = False) -> Job:
        """Queue a scan of the library and let a worker run it; the finished job."""
        return self.run(self.create(library_id, force=force))

    def wait_until_finished(self, job: Job) -> Job:
        """The job once it is completed or failed."""

        def finished() -> Job | None:
            current = self.service.retrieve_job(job.id)
            return None if current.is_active else current

        return wait_for(self.database, finished, f"scan job {job.id} finishes")

    def logs(self, job: Job, level: LogLevel) -> list[JobLog]:
        """The job's log lines of ``level``, as its page lists them."""
        return self.service.list_job_logs(job.id, levels=[level.value])

    def summary(self, job: Job) -> dict[str, Any]:
        """What a completed scan did: the data of its last log line ("Scanned library ...")."""
        assert job.status == JobStatus.COMPLETED, job.error
        last = self.logs(job, LogLevel.INFO)[-1]
        assert last.message.startswith("Scanned library") and last.data is not None
        return last.data

    def progress_shown(self, job: Job) -> list[int]:
        """The progress values the job's live event stream carried, in order."""
        query = (
            sa.select(JobEventRow.job_json)
            .where(JobEventRow.job_id == job.id, JobEventRow.event == EVENT_PROGRESS)
            .order_by(JobEventRow.id)
        )
        with self.database.read() as session:
            return [msgspec.json.decode(text)["progress"] for text in session.scalars(query)]


@pytest.fixture
def worker_plugins(host_database: Database) -> pluggy.PluginManager:
    """The worker's plugin manager: the built-in job types and the host's hooks."""
    return get_plugin_manager(load_entry_points=False, plugins=["library_host.hooks"])


@pytest.fixture
def scans(host_database: Database, worker_plugins: pluggy.PluginManager) -> Scans:
    """Scan jobs of the host's libraries, run by real workers."""
    return Scans(host_database, worker_plugins)
