"""How a worker learns that there is work: in-process signal, LISTEN/NOTIFY, bounded poll.

- Enqueues in the same process fire ``Database.on_commit`` listeners: instant.
- On PostgreSQL a dedicated connection ``LISTEN``\\ s on ``shisho_jobs``: every
  job event committed anywhere wakes the worker within milliseconds.
- On SQLite a thread reads ``PRAGMA data_version`` every few milliseconds: it
  changes whenever another connection (any process) commits, and reading it
  costs no lock and no table access, so other processes' enqueues wake the
  worker almost as fast as a NOTIFY would.
- Whatever happens, the worker also looks at the queue at least every
  ``poll_interval`` seconds (at most 1 s).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Final

import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.service import EVENT_PROGRESS, NOTIFY_CHANNEL

LISTEN_CHECK_INTERVAL: Final = 0.25  # seconds between checks for "stop" while listening
LISTEN_RETRY_DELAY: Final = 1.0  # seconds before reconnecting a lost LISTEN connection
DATA_VERSION_INTERVAL: Final = 0.02  # seconds between two reads of SQLite's data_version

_logger = logging.getLogger("shisho_jobs.worker")


class Wakeup:
    """A flag the worker sleeps on; anything that may have created work sets it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Wake the worker (safe from any thread)."""
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until woken or ``timeout`` seconds passed; returns whether woken.

        The flag is cleared on return, so a wake-up that arrives while the worker
        is busy is kept for its next wait instead of being lost.
        """
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class PostgresListener:
    """A thread holding a dedicated connection that ``LISTEN``\\ s for job events.

    Args:
        url: the database URL (SQLAlchemy form; the driver part is dropped).
        on_notify: called for each notification that may mean new work.
    """

    def __init__(self, url: sa.URL, on_notify: Callable[[], None]) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shisho-listen", daemon=True)
        self.listening = threading.Event()
        """Set once the LISTEN is in place (for tests and benchmarks)."""

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    # A notification may have been missed while (re)connecting.
                    self._on_notify()
                    while not self._stop.is_set():
                        for notify in connection.notifies(timeout=LISTEN_CHECK_INTERVAL):
                            if not notify.payload.startswith(EVENT_PROGRESS):
                                self._on_notify()
            except psycopg.Error as error:
                self.listening.clear()
                _logger.warning("LISTEN connection lost (%s); polling until it is back", error)
                self._stop.wait(LISTEN_RETRY_DELAY)


class SqliteChangeWatcher:
    """A thread that wakes the worker whenever any other connection commits to the SQLite file.

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


def connect_wakeups(database: Database, wakeup: Wakeup) -> Callable[[], None]:
    """Wire ``wakeup`` to every source of job news for ``database``.

    Returns:
        A function that disconnects them again.
    """
    remove_listener = database.on_commit(wakeup.set)
    watcher: PostgresListener | SqliteChangeWatcher | None = None
    if database.dialect == "postgresql":
        watcher = PostgresListener(database.url, wakeup.set)
    elif database.url.database and database.url.database != ":memory:":
        watcher = SqliteChangeWatcher(database.url.database, wakeup.set)
    if watcher is not None:
        watcher.start()

    def disconnect() -> None:
        remove_listener()
        if watcher is not None:
            watcher.stop()

    return disconnect
