"""Folder watching as a worker duty: the libraries this worker can scan, watched.

Every worker watches (unless ``SHISHO_WATCH=0``): several workers on several hosts may
watch the same library, and start-or-join keeps their changes to one scan. The OS events
arrive on the watcher's own threads; this duty's round, every fraction of the quiet window,
hands what has settled to a scan (:class:`~shisho_jobs.watch.LibraryWatcher`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shisho_jobs.watch import LibraryWatcher, WatchHealth


@dataclass
class WatchLibraries:
    """Run the watcher's rounds on the worker's supervising thread.

    Args:
        watcher: the watcher (not started: this duty runs its rounds).
    """

    watcher: LibraryWatcher
    name: str = "watch"
    interval: float = field(init=False)
    """Seconds between two rounds: a quarter of the quiet window, at most 0.25 s."""

    def __post_init__(self) -> None:
        self.interval = self.watcher.tick

    def run(self) -> None:
        """One round: re-read the libraries when due; start the scans that are due."""
        self.watcher.run_once()

    def health(self) -> list[WatchHealth]:
        """How each library is watched (see :meth:`LibraryWatcher.health`)."""
        return self.watcher.health()

    def close(self) -> None:
        """Stop every watch (the worker is stopping)."""
        self.watcher.stop()
