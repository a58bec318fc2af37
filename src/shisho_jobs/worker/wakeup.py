"""How a worker learns that there is work: in-process signal, LISTEN/NOTIFY, bounded poll.

- Enqueues in the same process fire ``Database.on_commit`` listeners: instant.
- On PostgreSQL the shared listener (:mod:`shisho_jobs.pg_listener`) ``LISTEN``\\ s on
  ``shisho_jobs``: every job event committed anywhere, except progress, wakes the worker
  within milliseconds.
- On SQLite a thread reads ``PRAGMA data_version`` whenever inotify says the
  database's files were written (and every second anyway; every 20 ms where there
  is no inotify): it changes
  whenever another connection (any process) commits, and reading it costs no
  lock and no table access, so other processes' enqueues wake the worker almost
  as fast as a NOTIFY would (:mod:`shisho_jobs.sqlite_watch`).
- Whatever happens, the worker also looks at the queue at least every
  ``poll_interval`` seconds (at most 1 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shisho_jobs.db import Database
from shisho_jobs.outbox import EVENT_PROGRESS
from shisho_jobs.pg_listener import PgListener
from shisho_jobs.sqlite_watch import SqliteChangeWatcher, sqlite_file


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


def connect_wakeups(database: Database, wakeup: Wakeup) -> Callable[[], None]:
    """Wire ``wakeup`` to every source of job news for ``database``.

    Returns:
        A function that disconnects them again.
    """
    remove_listener = database.on_commit(wakeup.set)
    watcher: PgListener | SqliteChangeWatcher | None = None
    if database.dialect == "postgresql":
        watcher = PgListener(database)

        def on_notify(payload: str | None) -> None:
            # Progress of a running job never means new work.
            if payload is None or not payload.startswith(EVENT_PROGRESS):
                wakeup.set()

        watcher.subscribe(on_notify)
    elif (path := sqlite_file(database)) is not None:
        watcher = SqliteChangeWatcher(path, wakeup.set)
    if watcher is not None:
        watcher.start()

    def disconnect() -> None:
        remove_listener()
        if watcher is not None:
            watcher.stop()

    return disconnect
