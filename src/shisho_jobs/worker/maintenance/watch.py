"""Folder watching as a worker duty: the libraries this worker can scan, watched.

Every worker watches (unless ``SHISHO_WATCH=0``): several workers on several hosts may
watch the same library, and start-or-join keeps their changes to one scan. The OS events
arrive on the watcher's own threads; this duty's round, every fraction of the quiet window,
hands what has settled to a scan (:class:`~shisho_jobs.watch.LibraryWatcher`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import msgspec
import sqlalchemy as sa

from shisho_jobs.db import Database
from shisho_jobs.watch import LibraryWatcher, WatchHealth
from shisho_jobs.watch.health_store import forget_watch_health, publish_watch_health

_logger = logging.getLogger("shisho_jobs.watch")

PUBLISH_INTERVAL: Final = 2.0  # seconds; health is written at most this often (when it changed)


@dataclass
class WatchLibraries:
    """Run the watcher's rounds on the worker's supervising thread.

    Args:
        watcher: the watcher (not started: this duty runs its rounds).
        database: where its health is published for admins (``library_watches``).
        worker_id: the worker's ``process_id`` (its ``workers`` row).
        clock: seconds on a monotonic clock (for tests).
    """

    watcher: LibraryWatcher
    database: Database
    worker_id: str
    clock: Callable[[], float] = time.monotonic
    name: str = "watch"
    interval: float = field(init=False)
    """Seconds until the next round: 50 ms while changes wait, longer while none does
    (see :meth:`LibraryWatcher.seconds_until_next_round`)."""

    def __post_init__(self) -> None:
        self.interval = self.watcher.tick
        self._published: bytes | None = None
        self._next_publish = 0.0

    def run(self) -> None:
        """One round: re-read the libraries when due; start the scans that are due; tell
        admins when how the libraries are watched changed."""
        self.watcher.run_once()
        self.interval = self.watcher.seconds_until_next_round()
        now = self.clock()
        if now < self._next_publish:
            return
        health = self.watcher.health()
        encoded = msgspec.json.encode(health)
        if encoded == self._published:
            return
        self._next_publish = now + PUBLISH_INTERVAL
        if publish_watch_health(self.database, self.worker_id, health):
            self._published = encoded

    def health(self) -> list[WatchHealth]:
        """How each library is watched (see :meth:`LibraryWatcher.health`)."""
        return self.watcher.health()

    def close(self) -> None:
        """Stop every watch, and take them off the admins' list (the worker is stopping)."""
        self.watcher.stop()
        self._published = None
        try:
            forget_watch_health(self.database, self.worker_id)
        except sa.exc.SQLAlchemyError:
            # The rows go with the worker's row once it expires.
            _logger.warning("could not remove this worker's watch health rows", exc_info=True)
