"""Seeing other processes' commits to a SQLite file within milliseconds, without polling tables.

``PRAGMA data_version`` changes whenever another connection (in any process)
commits to the file; reading it takes no lock and touches no table. The worker
uses it to pick up jobs enqueued elsewhere, the web plugin's event hub to read
the outbox as soon as a worker elsewhere changed a job.

When to read it comes from file-system events (watchfiles' ``RustNotify``, inotify on
Linux) on the database's folder, so an idle process reads it about once a second
instead of fifty times. The folder is watched, not the files: SQLite deletes and
recreates ``-journal`` (and ``-wal``, when its last connection closes), and a watch on a
file dies with its inode. data_version stays the judge of whether anything was
committed: events also come from connections opening the file, checkpoints and
unrelated files of the folder.

``RustNotify`` is used directly (as :mod:`shisho_jobs.watch.backend` does) rather than
``watchfiles.watch()``, which only sets the watch up at its first iteration: the first
read of data_version must come after the watch exists, or a commit in between would
wait for the safety poll. Its wait still wakes every :data:`EVENT_STEP_MS` to look
for events, which is what an idle watcher costs.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Final

from watchfiles._rust_notify import RustNotify, WatchfilesRustInternalError

from shisho_jobs.db import Database
from shisho_jobs.watch.backend import is_watch_limit_error

DATA_VERSION_INTERVAL: Final = 0.02  # seconds between two reads when no file events can be had
SAFETY_POLL_INTERVAL: Final = 1.0  # seconds: data_version is read this often, events or not
EVENT_STEP_MS: Final = 5  # ms watchfiles sleeps between two looks for events: the added latency
# (one to two steps) and the idle cost (each look wakes the thread) both follow from it.
EVENT_DEBOUNCE_MS: Final = 20  # ms at most that a stream of commits waits before one read
EVENT_RECHECK_MS: Final = 20  # ms until a second read when a write showed no commit yet
STARTUP_WAIT: Final = 1.0  # seconds start() waits at most for the watch to be set up
_FILE_SUFFIXES: Final = ("", "-wal", "-journal")  # what a commit writes; not -shm (mmap, reads)

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
        interval: seconds between two reads of ``PRAGMA data_version`` when file events
            are unavailable (the watch could not be set up, or failed).
        safety_interval: seconds between two reads at the latest while events work, for
            an event that never came.
    """

    def __init__(
        self,
        path: str,
        on_change: Callable[[], None],
        interval: float = DATA_VERSION_INTERVAL,
        *,
        safety_interval: float = SAFETY_POLL_INTERVAL,
    ) -> None:
        self._path = path
        self._on_change = on_change
        self._interval = interval
        self._safety_interval = safety_interval
        # SQLite resolves symlinks and keeps -wal and -journal beside the real file.
        real = Path(path).resolve()
        self._folder = str(real.parent)
        self._names = frozenset(real.name + suffix for suffix in _FILE_SUFFIXES)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shisho-sqlite-watch", daemon=True)

    def start(self) -> None:
        """Start watching in the background.

        Returns once the watch is set up (milliseconds; :data:`STARTUP_WAIT` at most), so
        a commit made after it returns is one the watcher sees.
        """
        self._thread.start()
        self._ready.wait(STARTUP_WAIT)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching (the watch sees the stop within one event step)."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._watch()
        finally:
            self._ready.set()  # also when it failed: start() has nothing to wait for

    def _watch(self) -> None:
        try:
            connection = sqlite3.connect(self._path, check_same_thread=False)
        except sqlite3.Error as error:
            _logger.warning("cannot watch %s for changes (%s); polling only", self._path, error)
            return
        try:
            notify = self._new_notify()
            # The first read comes after the watch exists: a commit before it is in this
            # baseline, any after it sends an event.
            version = _ChangedVersion(connection, self._on_change)
            self._ready.set()
            if notify is not None:
                with notify:
                    if self._follow_events(notify, version):
                        return
            while not self._stop.wait(self._interval):
                version.check()
        finally:
            connection.close()

    def _new_notify(self) -> RustNotify | None:
        try:
            return RustNotify(
                [self._folder],
                False,  # debug
                False,  # force_polling: notify's stat polling is no faster than data_version
                0,  # poll_delay_ms, unused without polling
                False,  # recursive: the database's files are all in its own folder
                False,  # ignore_permission_denied: it would also hide the watch limit's error
            )
        except (OSError, WatchfilesRustInternalError) as error:
            # OSError: the folder, or inotify's max_user_watches; the internal error: no
            # inotify instance (max_user_instances).
            self._warn_polling(error)
            return None

    def _follow_events(self, notify: RustNotify, version: _ChangedVersion) -> bool:
        """Read the version on each event of the database's files until stopped.

        Returns:
            ``True`` once stopped; ``False`` when the watch failed (the caller then
            polls), after a warning.
        """
        safety_ms = round(self._safety_interval * 1000)
        timeout_ms = safety_ms
        last_read = time.monotonic()
        while True:
            try:
                answer = notify.watch(EVENT_DEBOUNCE_MS, EVENT_STEP_MS, timeout_ms, self._stop)
            except (OSError, WatchfilesRustInternalError) as error:
                self._warn_polling(error)
                return False
            if answer == "stop":
                return True
            now = time.monotonic()
            # A string left is a timeout ("signal" is for the main thread only); events of
            # unrelated files in the folder restart notify's timeout, hence the clock too.
            touched = not isinstance(answer, str) and self._touches_database(answer)
            if isinstance(answer, str) or touched or now - last_read >= self._safety_interval:
                changed = version.check()
                last_read = now
                # A commit writes the -wal first and publishes itself in the -shm after
                # (mmap: no event): a write that showed no commit yet is looked at again.
                timeout_ms = EVENT_RECHECK_MS if touched and not changed else safety_ms

    def _touches_database(self, changes: set[tuple[int, str]]) -> bool:
        return any(PurePath(path).name in self._names for _change, path in changes)

    def _warn_polling(self, error: BaseException) -> None:
        hint = (
            "; raise fs.inotify.max_user_watches (and max_user_instances) to get events"
            if is_watch_limit_error(error)
            else ""
        )
        _logger.warning(
            "cannot watch %s for changes by file events (%s); reading its data_version "
            "every %g s instead%s",
            self._path,
            error,
            self._interval,
            hint,
        )


class _ChangedVersion:
    """``PRAGMA data_version`` of one connection; calls back when a read finds it changed."""

    def __init__(self, connection: sqlite3.Connection, on_change: Callable[[], None]) -> None:
        self._connection = connection
        self._on_change = on_change
        self._last = self._read()

    def check(self) -> bool:
        """Read the version; call back if another connection committed since the last read.

        Returns:
            Whether it called back.
        """
        version = self._read()
        if version is None:
            return False  # busy for a moment: the next event or poll reads again
        changed = self._last is not None and version != self._last
        self._last = version
        if changed:
            self._on_change()
        return changed

    def _read(self) -> int | None:
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])
