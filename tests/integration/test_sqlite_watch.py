"""``SqliteChangeWatcher``: commits to a real SQLite file, by real processes, wake it.

The watchers here mostly get a safety poll far longer than the waits, so a callback
within the wait can only have come from a file-system event. Commits follow ``start()``
at once: it returns once the watch is set up.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from polling import wait_until
from shisho_jobs.sqlite_watch import SqliteChangeWatcher

EVENTS_ONLY = 600.0  # seconds of safety poll: longer than any wait of these tests
TIMEOUT = 10.0  # seconds: a busy machine's slack, not a target
QUIET = 1.5  # seconds without commits: longer than the default safety poll (1 s)
THREAD_NAME = "shisho-sqlite-watch"

# Commits one row from a separate Python process, in the given journal mode.
_WRITER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute(f"PRAGMA journal_mode = {sys.argv[2]}")
connection.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
connection.execute("INSERT INTO t VALUES (1)")
connection.commit()
if sys.argv[3] == "truncate":
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
connection.close()
"""


class Calls:
    """Counts the watcher's callbacks (they come from its thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def __call__(self) -> None:
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def wait_for(self, count: int, what: str) -> None:
        wait_until(lambda: self.count >= count, timeout=TIMEOUT, what=what)


def commit_in_another_process(path: Path, journal_mode: str = "WAL", *, then: str = "") -> None:
    subprocess.run([sys.executable, "-c", _WRITER, str(path), journal_mode, then], check=True)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A WAL database with a table, no connection left open."""
    path = tmp_path / "jobs.db"
    commit_in_another_process(path)
    return path


@pytest.fixture
def calls() -> Calls:
    return Calls()


def _rerun_without_reading_every_folder(request: pytest.FixtureRequest) -> None:
    """Run this test again in a pytest whose root has no right to read any folder (CI runs
    as root, which may read, and so watch, even a folder without the read bit)."""
    if os.environ.get(_RERUN_MARK) or shutil.which("setpriv") is None:
        pytest.skip("this user reads any folder and cannot give that right up (no setpriv)")
    command = [
        "setpriv",
        "--bounding-set=-dac_override,-dac_read_search",
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"{request.path}::{request.node.name}",
    ]
    environment = {**os.environ, _RERUN_MARK: "1"}
    rerun = subprocess.run(
        command, check=False, env=environment, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "1 passed" in rerun.stdout, rerun.stdout


_RERUN_MARK = "SHISHO_TEST_WITHOUT_DAC_OVERRIDE"


def _readable(folder: Path) -> bool:
    try:
        next(folder.iterdir(), None)
    except PermissionError:
        return False
    return True


def _watcher_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


@pytest.fixture
def watching(calls: Calls) -> Iterator[list[SqliteChangeWatcher]]:
    """Watchers started by a test; stopped after it whatever happened."""
    started: list[SqliteChangeWatcher] = []
    yield started
    for watcher in started:
        watcher.stop()


def start(
    path: Path, calls: Calls, watching: list[SqliteChangeWatcher], **options: float
) -> SqliteChangeWatcher:
    watcher = SqliteChangeWatcher(str(path), calls, **options)
    watcher.start()
    watching.append(watcher)
    return watcher


def test_a_commit_by_another_process_is_seen(
    database: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    start(database, calls, watching, safety_interval=EVENTS_ONLY)

    commit_in_another_process(database)

    calls.wait_for(1, "the other process's commit is seen")


def test_a_commit_by_another_connection_of_this_process_is_seen(
    database: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    start(database, calls, watching, safety_interval=EVENTS_ONLY)

    connection = sqlite3.connect(database)
    try:
        connection.execute("INSERT INTO t VALUES (2)")
        connection.commit()
        calls.wait_for(1, "this process's other connection's commit is seen")
    finally:
        connection.close()


def test_nothing_is_called_back_while_nothing_is_committed(
    database: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    # The default safety poll reads data_version within the quiet time, and a file
    # changing beside the database sends events: neither is a commit.
    start(database, calls, watching)
    neighbour = database.with_name("notes.txt")
    reader = sqlite3.connect(database)
    try:
        deadline = time.monotonic() + QUIET
        while time.monotonic() < deadline:
            neighbour.write_text(str(time.monotonic()))
            reader.execute("SELECT count(*) FROM t").fetchone()
            time.sleep(0.05)
    finally:
        reader.close()

    assert calls.count == 0


def test_a_wal_created_after_the_watch_started_is_seen(
    tmp_path: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    # No database yet: the -wal only appears with the other process's first commit.
    path = tmp_path / "new.db"
    start(path, calls, watching, safety_interval=EVENTS_ONLY)
    assert not path.with_name("new.db-wal").exists()

    commit_in_another_process(path)

    calls.wait_for(1, "the first commit to a new WAL database is seen")


def test_commits_stay_seen_while_the_journal_is_deleted_and_recreated(
    tmp_path: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    # In rollback mode each commit creates -journal and deletes it again.
    path = tmp_path / "rollback.db"
    commit_in_another_process(path, "DELETE")
    start(path, calls, watching, safety_interval=EVENTS_ONLY)

    for commit in range(1, 4):
        commit_in_another_process(path, "DELETE")
        calls.wait_for(commit, f"rollback-mode commit {commit} is seen")
        assert not path.with_name("rollback.db-journal").exists()


def test_commits_stay_seen_after_the_wal_is_truncated(
    database: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    start(database, calls, watching, safety_interval=EVENTS_ONLY)

    for commit in range(1, 4):
        commit_in_another_process(database, then="truncate")
        calls.wait_for(commit, f"commit {commit} after a checkpoint is seen")
        assert database.with_name("jobs.db-wal").stat().st_size == 0


def test_stop_ends_the_thread_promptly_and_the_callbacks(
    database: Path, calls: Calls, watching: list[SqliteChangeWatcher]
) -> None:
    watcher = start(database, calls, watching)
    assert _watcher_threads()

    stopped_at = time.monotonic()
    watcher.stop()  # waits 2 s at most: a watch step is milliseconds
    took = time.monotonic() - stopped_at

    assert not _watcher_threads(), f"the watch thread still runs {took:.1f} s after stop()"
    commit_in_another_process(database)
    time.sleep(0.5)
    assert calls.count == 0


def test_without_file_events_it_polls_after_one_warning(
    tmp_path: Path,
    calls: Calls,
    watching: list[SqliteChangeWatcher],
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    # A folder that may be written and entered but not read: SQLite works in it, inotify
    # may not watch it, as when the OS has no watches left.
    folder = tmp_path / "unreadable"
    folder.mkdir()
    path = folder / "jobs.db"
    commit_in_another_process(path)
    folder.chmod(0o300)
    try:
        if _readable(folder):
            _rerun_without_reading_every_folder(request)
            return
        with caplog.at_level(logging.WARNING, logger="shisho_jobs"):
            start(path, calls, watching, safety_interval=EVENTS_ONLY)
            for commit in range(1, 3):
                commit_in_another_process(path)
                calls.wait_for(commit, f"commit {commit} is seen by polling")
    finally:
        folder.chmod(0o700)

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "file events" in warnings[0].getMessage()
