"""Seeing other processes' commits to a SQLite file within milliseconds, without polling tables.

``PRAGMA data_version`` changes whenever another connection (in any process)
commits to the file; reading it takes no lock and touches no table. The worker
uses it to pick up jobs enqueued elsewhere, the web plugin's event hub to read
the outbox as soon as a worker elsewhere changed a job.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Final

from shisho_jobs.db import Database

DATA_VERSION_INTERVAL: Final = 0.02  # seconds between two reads of SQLite's data_version

_logger = logging.getLogger("shisho_jobs")


def sqlite_file(database: Database) -> str | None:
    """The file of a SQLite database, or ``None`` (PostgreSQL, or SQLite in memory)."""
    path = database.url.database
    if database.dialect != "sqlite" or not path or path == ":memory:":
        return None
    return path


class SqliteChangeWatcher:
    """A thread that calls back whenever another connection commits to a SQLite file.

    Args:
        path: the database file.
        on_change: called after each change seen.
        interval: seconds between two reads of ``PRAGMA data_version``.
    """

    def __init__(
        self, path: str, on_change: Callable[[], None], interval: float = DATA_VERSION_INTERVAL
    ) -> None:
        self._path = path
        self._on_change = on_change
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shisho-sqlite-watch", daemon=True)

    def start(self) -> None:
        """Start watching in the background."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, check_same_thread=False)
        except sqlite3.Error as error:
            _logger.warning("cannot watch %s for changes (%s); polling only", self._path, error)
            return
        try:
            last = None
            while not self._stop.wait(self._interval):
                try:
                    version = connection.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:
                    continue  # busy for a moment: the next read or the poll will do
                if last is not None and version != last:
                    self._on_change()
                last = version
        finally:
            connection.close()
