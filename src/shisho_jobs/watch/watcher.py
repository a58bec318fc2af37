"""The libraries' watcher: follows the library list and asks for scans of settled changes.

Reads top-down: :meth:`LibraryWatcher.start` runs :meth:`LibraryWatcher._run` on a thread,
which re-reads the library list now and then (:meth:`_sync_libraries`) and serves each
library (:meth:`_serve`): once its changes are due and settled, it asks the
:class:`~shisho_jobs.watch.starter.ScanStarter` for a scan; when the answer is a running
scan that may have missed them, it waits for that scan to end and asks again, so the
changes get exactly one follow-up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from shisho_jobs.hooktypes import Library
from shisho_jobs.watch.batch import Flush
from shisho_jobs.watch.health import WatchHealth
from shisho_jobs.watch.library_watch import LibraryWatch
from shisho_jobs.watch.settings import WatchSettings
from shisho_jobs.watch.starter import ScanStarter

WAIT_CHECK_INTERVAL: Final = 0.5  # seconds between two looks at the scan held changes wait for
ERROR_BACKOFF: Final = 2.0  # seconds before asking again after a scan request failed
IDLE_ROUND: Final = 1.0  # seconds between two rounds while no change waits, at most
MAX_TICK: Final = 0.05  # seconds between two rounds over the libraries, at most (a round
# without a due library only compares a few numbers; a longer tick adds to every scan's wait)
STOP_TIMEOUT: Final = 5.0  # seconds stop() waits for each thread

_logger = logging.getLogger("shisho_jobs.watch")

ListLibraries = Callable[[], Sequence[Library] | None]
"""The host's libraries (the ``list_libraries`` hook); ``None`` when nobody answers."""


class LibraryWatcher:
    """Watches the folders of every library with a ``path`` and ``watch`` not ``off``.

    Args:
        list_libraries: the libraries this worker can scan, read again every
            ``settings.refresh_seconds`` (and on :meth:`refresh`).
        starter: creates or joins the scans (``trigger: "watch"``).
        settings: debounce, cap, polling and refresh intervals.
        process_id: the worker's name, shown in the health report.
    """

    def __init__(
        self,
        *,
        list_libraries: ListLibraries,
        starter: ScanStarter,
        settings: WatchSettings,
        process_id: str | None = None,
    ) -> None:
        self.list_libraries = list_libraries
        self.starter = starter
        self.settings = settings
        self.process_id = process_id
        self._watches: dict[int, LibraryWatch] = {}
        self._watches_lock = threading.Lock()
        self._refresh = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_refresh = 0.0
        self._tick = min(MAX_TICK, max(0.02, settings.debounce_seconds / 4))

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Read the libraries and start watching them, on a thread of the watcher's own."""
        if self._thread is not None:
            raise RuntimeError("the watcher was already started")
        self._thread = threading.Thread(target=self._run, name="shisho-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every watch; changes not yet handed to a scan are dropped (the schedule and
        the next start's scans find them)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        with self._watches_lock:
            watches = list(self._watches.values())
            self._watches.clear()
        for watch in watches:
            watch.stop(STOP_TIMEOUT)
        if self._thread is None:
            # Rounds run by a worker's duty: a worker started again watches again.
            self._stop.clear()
            self._next_refresh = 0.0

    def refresh(self) -> None:
        """Read the library list again soon (a library was added, moved or removed)."""
        self._refresh.set()

    def health(self) -> list[WatchHealth]:
        """Each watched library's state, by library id."""
        with self._watches_lock:
            watches = sorted(self._watches.values(), key=lambda watch: watch.library.id)
        return [watch.health() for watch in watches]

    # --- the loop -------------------------------------------------------------------------

    @property
    def tick(self) -> float:
        """Seconds between two calls of :meth:`run_once` (a fraction of the debounce)."""
        return self._tick

    def seconds_until_next_round(self) -> float:
        """How soon the next :meth:`run_once` is needed: :attr:`tick` while a library has
        changes waiting (or waits for a scan to end), else a quarter of the quiet window
        (at most :data:`IDLE_ROUND`): a change noticed meanwhile is not due before then."""
        with self._watches_lock:
            watches = list(self._watches.values())
        if any(len(watch.batch) or watch.waiting_for is not None for watch in watches):
            return self._tick
        return max(self._tick, min(IDLE_ROUND, self.settings.debounce_seconds / 4))

    def run_once(self) -> None:
        """One round: re-read the libraries when due, hand over what is due and settled.

        :meth:`start` calls it every :attr:`tick` on a thread of its own; a worker may call
        it from its own maintenance loop instead (and :meth:`stop` at the end).
        """
        now = time.monotonic()
        if self._refresh.is_set() or now >= self._next_refresh:
            self._refresh.clear()
            self._next_refresh = now + self.settings.refresh_seconds
            self._sync_libraries()
        with self._watches_lock:
            watches = list(self._watches.values())
        for watch in watches:
            if self._stop.is_set():
                return
            self._serve(watch, time.monotonic())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                _logger.exception("the library watcher's round failed; next round in a moment")
            self._stop.wait(self._tick)

    def _sync_libraries(self) -> None:
        """Watch new libraries, drop removed ones, restart changed or failed ones."""
        try:
            libraries = self.list_libraries()
        except Exception:
            _logger.exception("could not read the library list; watching the ones known")
            return
        wanted = {
            library.id: library
            for library in libraries or ()
            if library.path is not None and library.watch != "off"
        }
        with self._watches_lock:
            stale = [
                watch
                for library_id, watch in self._watches.items()
                if library_id not in wanted
                or wanted[library_id] != watch.library
                or not watch.alive
            ]
            for watch in stale:
                del self._watches[watch.library.id]
            reported = {watch.library.id: frozenset(watch.reported) for watch in stale}
            added = [
                LibraryWatch(
                    library,
                    self.settings,
                    process_id=self.process_id,
                    reported=reported.get(library_id, frozenset()),
                )
                for library_id, library in wanted.items()
                if library_id not in self._watches
            ]
            for watch in added:
                self._watches[watch.library.id] = watch
        for watch in stale:
            watch.stop(STOP_TIMEOUT)
        for watch in added:
            _logger.info(
                "watching library %r at %s (%s)",
                watch.library.name,
                watch.library.path,
                watch.library.watch,
            )
            watch.start()

    def _serve(self, watch: LibraryWatch, now: float) -> None:
        """Hand a library's settled changes to a scan, if they are due."""
        if now < watch.next_check:
            return
        forced = False
        if watch.waiting_for is not None:
            watch.next_check = now + WAIT_CHECK_INTERVAL
            if self._still_active(watch, watch.waiting_for):
                return
            # The scan that may have missed the held changes has ended: their follow-up.
            watch.waiting_for = None
            forced = True
        with watch.lock:
            if not (forced or watch.batch.is_due(now)):
                return
            flush = watch.batch.take_settled(now, watch.size_of)
        if flush is not None:
            self._request(watch, flush, now)

    def _request(self, watch: LibraryWatch, flush: Flush, now: float) -> None:
        library = watch.library
        try:
            answer = self.starter.request_scan(library.id, flush.paths, quiet_for=flush.quiet_for)
        except Exception as error:
            _logger.debug("scan request of library %r failed", library.name, exc_info=True)
            watch.note_error(
                f"Could not start a scan of the changes in library {library.name!r}: {error}; "
                f"trying again in {ERROR_BACKOFF:g} s."
            )
            with watch.lock:
                watch.batch.put_back(flush, now)
            watch.next_check = now + ERROR_BACKOFF
            return
        with watch.lock:
            watch.last_scan_job_id = answer.job_id
            if not answer.covered:
                watch.batch.put_back(flush, now)
                watch.waiting_for = answer.job_id
        if answer.covered:
            _logger.info(
                "%d changes in library %r: scan %s", flush.changes, library.name, answer.job_id
            )
        else:
            _logger.info(
                "%d changes in library %r during scan %s: one more scan after it",
                flush.changes,
                library.name,
                answer.job_id,
            )

    def _still_active(self, watch: LibraryWatch, job_id: int) -> bool:
        try:
            return self.starter.is_active(job_id)
        except Exception:
            _logger.exception("could not look at scan %s", job_id)
            return True
