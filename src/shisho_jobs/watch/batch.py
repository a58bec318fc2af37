"""One library's changes waiting for their scan: the quiet window, the cap, settled files.

Pure bookkeeping on a monotonic clock the caller passes in, so the rules read (and are
tested) without threads: a batch is due once its changes have been quiet for the
debounce, or the cap has passed since its first change; what a flush hands out is only
what has settled. A file whose size still changes (a copy in progress) stays for the
next flush rather than being half-read now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shisho_jobs.watch import paths as watched_paths


@dataclass
class _Change:
    at: float
    """Monotonic time of the latest event about this path."""
    size: int | None
    """The file's size after that event; ``None`` for a folder or a deleted entry."""


@dataclass(frozen=True)
class Flush:
    """Settled changes handed to a scan."""

    paths: list[str] | None
    """What the scan must walk (see :mod:`shisho_jobs.watch.paths`); ``None``: everything."""
    quiet_for: float
    """Seconds since the latest of these changes (a duration, so no clocks are compared)."""
    changes: int
    """How many changed entries the flush covers."""


SizeOf = Callable[[str], int | None]
"""The current size of a relative path's file, ``None`` when it is no (readable) file."""


class ChangeBatch:
    """Changes of one library since its last scan was asked for.

    Args:
        debounce: quiet seconds after the latest change before a flush.
        max_wait: seconds after the first change after which a flush happens anyway.
        settle: at a flush forced by the cap, changes younger than this are held back.
    """

    def __init__(self, *, debounce: float, max_wait: float, settle: float) -> None:
        self.debounce = debounce
        self.max_wait = max_wait
        self.settle = settle
        self._changes: dict[str, _Change] = {}
        self._first_at: float | None = None
        self._last_at: float | None = None

    def __len__(self) -> int:
        return len(self._changes)

    def record(self, path: str, size: int | None, now: float) -> None:
        """Note an event about ``path`` (relative, ``"."`` for the folder itself)."""
        self._changes[path] = _Change(at=now, size=size)
        if self._first_at is None:
            self._first_at = now
        self._last_at = now

    def is_due(self, now: float) -> bool:
        """Whether the quiet window has passed, or the cap."""
        if self._first_at is None or self._last_at is None:
            return False
        return now - self._last_at >= self.debounce or now - self._first_at >= self.max_wait

    def seconds_until_due(self, now: float) -> float | None:
        """How long until :meth:`is_due` turns true without further changes; ``None`` if empty."""
        if self._first_at is None or self._last_at is None:
            return None
        due_at = min(self._last_at + self.debounce, self._first_at + self.max_wait)
        return max(0.0, due_at - now)

    def take_settled(self, now: float, size_of: SizeOf) -> Flush | None:
        """Remove and return the changes that have settled; the rest wait for the next window.

        A path has not settled when its latest event is younger than ``settle`` or the
        size of its file differs from the size seen then. A folder waits while anything
        below it has not settled, so a scan never walks into a copy in progress.

        Returns:
            The settled changes, or ``None`` when nothing has settled (or nothing changed).
        """
        if not self._changes:
            return None
        unsettled = {
            path
            for path, change in self._changes.items()
            if not self._settled(path, change, now, size_of)
        }
        held = {
            path
            for path in self._changes
            if any(watched_paths.is_within(other, path) for other in unsettled)
        }
        taken = {path: change for path, change in self._changes.items() if path not in held}
        for path in held:
            # Compare against the size now: the next flush asks "did it change since?"
            change = self._changes[path]
            self._changes[path] = _Change(
                at=now, size=size_of(path) if change.size is not None else None
            )
        for path in taken:
            del self._changes[path]
        self._first_at = self._last_at = now if self._changes else None
        if not taken:
            return None
        latest = max(change.at for change in taken.values())
        return Flush(paths=watched_paths.compact(taken), quiet_for=now - latest, changes=len(taken))

    def put_back(self, flush: Flush, now: float) -> None:
        """Return a flush's paths (no scan will see them yet); they wait again, as old as
        they were, so coverage is judged against their real age."""
        changed_at = now - flush.quiet_for
        for path in flush.paths if flush.paths is not None else [watched_paths.ROOT]:
            self._changes.setdefault(path, _Change(at=changed_at, size=None))
        if self._first_at is None:
            self._first_at = now
        self._last_at = now

    def _settled(self, path: str, change: _Change, now: float, size_of: SizeOf) -> bool:
        if now - change.at < self.settle:
            return False
        return change.size is None or size_of(path) == change.size
