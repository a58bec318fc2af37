"""Fixtures of the reference host's tests: a migrated host database on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from library_host import catalog, migrate
from library_host.database import get_database
from shisho_jobs import Database, JobService, Library, get_plugin_manager
from shisho_jobs.context import Cancellation, JobContext, JobLogger, ProgressTracker
from shisho_jobs.enums import LogLevel


def _url_text(url: str | sa.URL) -> str:
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


@pytest.fixture
def host_database(
    database_url: str | sa.URL, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A fresh database migrated like the demo's (host tables, then jobs tables).

    ``SHISHO_DATABASE_URL`` points at it, so the host's hooks use it too.
    """
    url = _url_text(database_url)
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


@dataclass
class RecordingSink:
    """A job sink keeping log lines and progress in memory (the worker's sink writes them to
    the database; the scanner only sees the JobContext in front of either)."""

    logs: list[tuple[LogLevel, str, dict[str, Any] | None]] = field(default_factory=list)
    progress: list[int] = field(default_factory=list)

    def write_log(
        self,
        *,
        level: LogLevel,
        message: str,
        data: dict[str, Any] | None,
        plugin: str | None,
        stack_trace: str | None,
    ) -> None:
        self.logs.append((level, message, data))

    def write_progress(self, percent: int) -> None:
        self.progress.append(percent)

    def messages(self, level: LogLevel) -> list[str]:
        """The messages logged at ``level``."""
        return [message for logged, message, _ in self.logs if logged == level]


@dataclass
class ScanRun:
    """A scan job's context and where its output went."""

    context: JobContext
    sink: RecordingSink
    cancellation: Cancellation


@pytest.fixture
def scan_run(host_database: Database, library: Library) -> ScanRun:
    """The context of a real scan job of ``library`` (progress unthrottled)."""
    manager = get_plugin_manager(load_entry_points=False)
    job = JobService(host_database, plugin_manager=manager).create_job("scan", library_id=1)
    sink = RecordingSink()
    cancellation = Cancellation()
    context = JobContext(
        job=job,
        log=JobLogger(job, sink, "library_host"),
        plugin_manager=manager,
        _tracker=ProgressTracker(sink, min_interval=0.0),
        _cancellation=cancellation,
    )
    return ScanRun(context, sink, cancellation)
