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
import threading
from collections.abc import Callable
from typing import Final

import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.service import EVENT_PROGRESS, NOTIFY_CHANNEL
from shisho_jobs.sqlite_watch import SqliteChangeWatcher, sqlite_file

LISTEN_CHECK_INTERVAL: Final = 0.25  # seconds between checks for "stop" while listening
LISTEN_RETRY_DELAY: Final = 1.0  # seconds before reconnecting a lost LISTEN connection

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


def connect_wakeups(database: Database, wakeup: Wakeup) -> Callable[[], None]:
    """Wire ``wakeup`` to every source of job news for ``database``.

    Returns:
        A function that disconnects them again.
    """
    remove_listener = database.on_commit(wakeup.set)
    watcher: PostgresListener | SqliteChangeWatcher | None = None
    if database.dialect == "postgresql":
        watcher = PostgresListener(database.url, wakeup.set)
    elif (path := sqlite_file(database)) is not None:
        watcher = SqliteChangeWatcher(path, wakeup.set)
    if watcher is not None:
        watcher.start()

    def disconnect() -> None:
        remove_listener()
        if watcher is not None:
            watcher.stop()

    return disconnect
