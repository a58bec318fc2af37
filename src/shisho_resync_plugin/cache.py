"""A short-lived cache of ``GET {prefix}/jobs`` answers, valid until the jobs change.

Every open page polls the button's status request (every 2 s while a scan runs). Each
answer costs a worker thread, the page query and its ``total`` (cheap per-scope counts kept by
triggers, see :mod:`shisho_jobs.scope_counts`; a count over the index when statuses are
filtered), and the JSON encoding. Between two changes of the jobs the answer is the same, so
it is kept and served again until:

- the event hub sees a new ``job_events`` row (any process, any host: every create and
  every status or progress change writes one), or
- a notifying commit happens in this process (before the hub has even read it), or
- ``ttl`` seconds pass: deletions by retention write no event, so they show up within that.

Answers are kept per :class:`shisho_jobs.filters.ListJobsFilter`: the query plus the
libraries the caller may see, so never shared between callers who may see different jobs.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

MAX_ENTRIES: Final = 4096


class ListCache:
    """Encoded answers by key, each stamped with the jobs' version when it was computed.

    Args:
        ttl: seconds an answer is kept at most (``0`` disables the cache).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[tuple[int, int], float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._commits = itertools.count()
        self._commit_version = 0
        self._event_version = -1

    @property
    def enabled(self) -> bool:
        """Whether answers are kept at all."""
        return self.ttl > 0

    def version(self) -> tuple[int, int]:
        """The jobs' version as this process knows it; read it *before* computing an answer."""
        return (self._event_version, self._commit_version)

    def saw_events_up_to(self, event_id: int) -> None:
        """The event hub has read the outbox up to ``event_id``."""
        self._event_version = event_id

    def saw_commit(self) -> None:
        """A notifying commit happened in this process (the jobs may have changed)."""
        self._commit_version = next(self._commits) + 1

    def get(self, key: Hashable) -> bytes | None:
        """The kept answer for ``key`` if the jobs have not changed since and it is fresh."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        version, stored_at, body = entry
        if version != self.version() or time.monotonic() - stored_at > self.ttl:
            return None
        return body

    def put(self, key: Hashable, version: tuple[int, int], body: bytes) -> None:
        """Keep ``body`` for ``key``, computed at ``version``."""
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (version, time.monotonic(), body)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
