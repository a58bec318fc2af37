"""One library under watch: its folder watch on a thread of its own, and its batch.

The thread only turns events into changes of the batch; asking for scans is the
:class:`~shisho_jobs.watch.watcher.LibraryWatcher`'s job. When OS events cannot be set up
(the inotify limit) the library is polled instead, with a warning in the log and in its
health, so it never goes silently unwatched.
"""

from __future__ import annotations

import logging
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from watchfiles import Change

from shisho_jobs.hooktypes import Library
from shisho_jobs.watch.backend import FolderWatch, RawChange, is_watch_limit_error
from shisho_jobs.watch.batch import ChangeBatch
from shisho_jobs.watch.health import WatchHealth, WatchState
from shisho_jobs.watch.ignore import is_ignored_path
from shisho_jobs.watch.paths import ROOT
from shisho_jobs.watch.settings import WatchSettings

WAIT_MS: Final = 500  # ms one wait for events lasts, so a stop is noticed quickly

_logger = logging.getLogger("shisho_jobs.watch")


class LibraryWatch:
    """The watch of one library's folder.

    Args:
        library: the library (with a ``path`` and ``watch`` other than ``off``).
        settings: debounce, cap and poll interval.
        process_id: the worker's name, for the health report.
        reported: problems already in the log (from an earlier watch of this library),
            logged again only at debug level, so a missing folder is not a warning a minute.
    """

    def __init__(
        self,
        library: Library,
        settings: WatchSettings,
        *,
        process_id: str | None,
        reported: frozenset[str] = frozenset(),
    ) -> None:
        if library.path is None or library.watch == "off":
            raise ValueError(f"library {library.id} has nothing to watch")
        self.library = library
        self.root = Path(library.path)
        self.settings = settings
        self.process_id = process_id
        self.lock = threading.Lock()
        """Guards :attr:`batch` and the health fields between this thread and the watcher's."""
        self.batch = ChangeBatch(
            debounce=settings.debounce_seconds,
            max_wait=settings.max_wait_seconds,
            settle=settings.settle_seconds,
        )
        self.waiting_for: int | None = None
        """A running scan that may have missed the held changes; asked again once it ends."""
        self.next_check = 0.0
        """Monotonic time of the next look at :attr:`waiting_for` (or of a retry)."""
        self.last_scan_job_id: int | None = None
        self.reported = set(reported)
        """Problems this library's watches have logged as warnings."""
        self._state: WatchState = "starting"
        self._folders = 0
        self._error: str | None = None
        self._error_at: datetime | None = None
        self._last_change_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"shisho-watch-{library.id}", daemon=True
        )

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start watching on the library's own thread."""
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching and wait for the thread (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread still watches (``False`` after a failure it cannot recover)."""
        return self._thread.is_alive()

    def health(self) -> WatchHealth:
        """The library's watch as admins see it."""
        with self.lock:
            return WatchHealth(
                library_id=self.library.id,
                library_name=self.library.name,
                path=self.library.path,
                requested=self.library.watch,
                state=self._state,
                folders=self._folders,
                worker=self.process_id,
                error=self._error,
                error_at=self._error_at,
                last_change_at=self._last_change_at,
                pending_changes=len(self.batch),
                last_scan_job_id=self.last_scan_job_id,
            )

    def note_error(self, message: str) -> None:
        """Record a problem for the health report, and warn of it in the log once."""
        with self.lock:
            self._error = message
            self._error_at = datetime.now(UTC)
            first_time = message not in self.reported
            self.reported.add(message)
        _logger.log(logging.WARNING if first_time else logging.DEBUG, message)

    def size_of(self, path: str) -> int | None:
        """The size of a changed file now; ``None`` for a folder or a missing entry."""
        try:
            info = (self.root / path).stat()
        except OSError:
            return None
        return None if stat.S_ISDIR(info.st_mode) else info.st_size

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        folder = self._open()
        if folder is None:
            return
        try:
            while not self._stop.is_set():
                try:
                    changes = folder.wait(WAIT_MS, self._stop)
                    if changes is None:
                        return
                    # Recorded first: a rebuild that fails must not lose them.
                    self._record(changes)
                    if changes and folder.needs_rebuild(changes):
                        self._record(folder.rebuild())
                        self._set_state(folder)
                except OSError as error:
                    folder.close()
                    folder = self._fall_back(error)
                    if folder is None:
                        return
        finally:
            if folder is not None:
                folder.close()

    def _open(self) -> FolderWatch | None:
        polling = self.library.watch == "poll"
        folder = self._new_folder(polling=polling)
        try:
            folder.open()
        except OSError as error:
            if polling:
                self._fail(error)
                return None
            return self._fall_back(error)
        self._set_state(folder)
        return folder

    def _fall_back(self, error: OSError) -> FolderWatch | None:
        """Poll the library when events could not be (kept) set up; fail otherwise."""
        if not is_watch_limit_error(error):
            self._fail(error)
            return None
        seconds = self.settings.poll_seconds
        message = (
            f"Cannot watch library {self.library.name!r} for changes: the OS file watch limit "
            f"was reached ({error}). Polling its folder every {seconds:g} s instead; raise "
            "fs.inotify.max_user_watches (and max_user_instances) to get events."
        )
        self.note_error(message)
        folder = self._new_folder(polling=True)
        try:
            folder.open()
        except OSError as poll_error:
            self._fail(poll_error)
            return None
        self._set_state(folder)
        return folder

    def _fail(self, error: OSError) -> None:
        """Give up on watching (until the next library refresh), loudly."""
        message = (
            f"Cannot watch library {self.library.name!r} at {self.library.path}: {error}. "
            "Its changes are found by manual and scheduled scans only; "
            "the worker tries again when it next reads the library list."
        )
        self.note_error(message)
        with self.lock:
            self._state = "failed"

    def _new_folder(self, *, polling: bool) -> FolderWatch:
        return FolderWatch(
            self.root, polling=polling, poll_delay_ms=round(self.settings.poll_seconds * 1000)
        )

    def _set_state(self, folder: FolderWatch) -> None:
        with self.lock:
            self._state = "poll" if folder.polling else "events"
            self._folders = len(folder.folders)

    def _record(self, changes: list[RawChange]) -> None:
        now = time.monotonic()
        noted = 0
        for change, path in changes:
            relative = _relative(self.root, path)
            if relative is None or is_ignored_path(relative.split("/")):
                continue
            size = self.size_of(relative)
            if change == Change.modified and size is None:
                # A folder's timestamps change with its entries, which have events of
                # their own (or the file is gone, and its deletion has one).
                continue
            with self.lock:
                self.batch.record(relative, size, now)
            noted += 1
        if noted:
            with self.lock:
                self._last_change_at = datetime.now(UTC)


def _relative(root: Path, path: str) -> str | None:
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts else ROOT
