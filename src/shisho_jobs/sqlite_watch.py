"""Seeing other processes' commits to a SQLite file within milliseconds, without polling tables.

``PRAGMA data_version`` changes whenever another connection (in any process)
commits to the file; reading it takes no lock and touches no table. The worker
uses it to pick up jobs enqueued elsewhere, the web plugin's event hub to read
the outbox as soon as a worker elsewhere changed a job.

When to read it comes from inotify (Linux, through ``inotify_simple``) on the database's
folder: the thread sleeps in ``poll()`` until a file there changes, so an idle process
costs nothing between its once-a-second safety reads. The folder is watched, not the
files: SQLite deletes and recreates ``-journal`` (and ``-wal``, when its last connection
closes), and a watch on a file dies with its inode. data_version stays the judge of
whether anything was committed: events also come from checkpoints, this process's own
writes and unrelated files of the folder. Elsewhere (macOS, BSD), or when inotify cannot
be had, it reads data_version every 20 ms.

(watchfiles, used for library folders, does not fit here: its wait wakes every few
milliseconds to look for events, which is the idle cost this module avoids.)
"""

from __future__ import annotations

import logging
import os
import select
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from shisho_jobs.db import Database
from shisho_jobs.watch.backend import is_watch_limit_error

if sys.platform == "linux":
    from inotify_simple import INotify, flags

DATA_VERSION_INTERVAL: Final = 0.02  # seconds between two reads when no file events can be had
SAFETY_POLL_INTERVAL: Final = 1.0  # seconds: data_version is read this often, events or not
FIRST_RECHECK_MS: Final = 1
LAST_RECHECK_MS: Final = 32
"""A commit writes the ``-wal`` first and publishes itself in the ``-shm`` (mmap: no event)
a moment later, so a write that shows no commit yet is read again after 1 ms, 2, 4 ...
up to 32 ms."""
READ_GAP: Final = 0.005
"""Seconds at least from a read that found a commit to the next read on events: a busy
database commits thousands of times a second (this process's own commits too), and one
read serves them all. The first commit after a quiet moment is read at once."""
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
        self._wake_read = self._wake_write = -1  # a pipe that ends the thread's poll() at once

    def start(self) -> None:
        """Start watching in the background.

        Returns once the watch is set up (milliseconds; :data:`STARTUP_WAIT` at most), so
        a commit made after it returns is one the watcher sees.
        """
        self._wake_read, self._wake_write = os.pipe()
        self._thread.start()
        self._ready.wait(STARTUP_WAIT)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching; returns as soon as the thread has ended (``timeout`` at most)."""
        self._stop.set()
        if self._wake_write < 0:
            return  # never started
        os.write(self._wake_write, b"x")
        self._thread.join(timeout)
        # Closed here, not by the thread: stop() must never write to a closed (or reused)
        # descriptor.
        if not self._thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1

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
            inotify = self._new_inotify()
            # The first read comes after the watch exists: a commit before it is in this
            # baseline, any after it sends an event.
            version = _ChangedVersion(connection, self._on_change)
            self._ready.set()
            if inotify is not None:
                with inotify:
                    if self._follow_events(inotify, version):
                        return
            while not self._stop.wait(self._interval):
                version.check()
        finally:
            connection.close()

    def _new_inotify(self) -> INotify | None:
        if sys.platform != "linux":
            return None  # no inotify: the caller polls
        try:
            inotify = INotify()
        except OSError as error:  # EMFILE: max_user_instances
            self._warn_polling(error)
            return None
        mask = flags.MODIFY | flags.CREATE | flags.DELETE | flags.MOVED_TO | flags.CLOSE_WRITE
        try:
            inotify.add_watch(self._folder, mask)
        except OSError as error:  # ENOSPC: max_user_watches; or a folder it may not watch
            inotify.close()
            self._warn_polling(error)
            return None
        return inotify

    def _follow_events(self, inotify: INotify, version: _ChangedVersion) -> bool:
        """Read the version on each event of the database's files until stopped.

        Returns:
            ``True`` once stopped; ``False`` when the watch failed (the caller then
            polls), after a warning.
        """
        poller = select.poll()
        poller.register(inotify.fileno(), select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)  # stop() writes to it
        safety_ms = round(self._safety_interval * 1000)
        recheck_ms = 0  # 0: no read again pending
        last_read = last_change = time.monotonic()
        while True:
            try:
                ready = poller.poll(recheck_ms or safety_ms)
                if self._stop.is_set():
                    return True
                if ready and (wait := READ_GAP - (time.monotonic() - last_change)) > 0:
                    time.sleep(wait)  # let a busy database's events gather: one read for all
                touched = bool(ready) and self._touches_database(inotify)
            except OSError as error:
                self._warn_polling(error)
                return False
            now = time.monotonic()
            # Events of unrelated files in the folder are no reason to read (but never
            # delay the safety read); a timeout is (the safety read, or a read again).
            unrelated = bool(ready) and not touched
            if unrelated and now - last_read < self._safety_interval:
                continue
            changed = version.check()
            last_read = now
            if changed:
                recheck_ms, last_change = 0, now
            elif touched:
                recheck_ms = FIRST_RECHECK_MS
            elif recheck_ms:
                recheck_ms = recheck_ms * 2 if recheck_ms < LAST_RECHECK_MS else 0

    def _touches_database(self, inotify: INotify) -> bool:
        events = inotify.read(timeout=0)
        # An overflowed queue lost events: read the version as if the database was touched.
        return any(event.name in self._names or event.mask & flags.Q_OVERFLOW for event in events)

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
