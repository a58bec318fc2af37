"""What a worker's watcher says about each library: shown to admins, never silent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

WatchMode = Literal["events", "poll", "off"]
"""How a library's folder is watched (``Library.watch``)."""

WatchState = Literal["events", "poll", "off", "failed", "starting"]
"""How it is watched now: ``poll`` also when events could not be set up (see ``error``),
``failed`` when it cannot be watched at all (a missing folder, say)."""


class WatchHealth(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One library as one worker watches it."""

    library_id: int
    library_name: str
    path: str | None
    """The folder watched (``Library.path``)."""
    requested: WatchMode
    """What the host asked for (``Library.watch``)."""
    state: WatchState
    """What the worker does now."""
    folders: int = 0
    """Folders under watch (hidden and system folders are not watched)."""
    worker: str | None = None
    """The worker's process id (``host:pid:random``)."""
    error: str | None = None
    """The last problem in words, with what to do about it; ``None`` when all is well."""
    error_at: datetime | None = None
    """When that problem happened (this worker's clock; shown, never compared)."""
    last_change_at: datetime | None = None
    """When the last change was noticed (this worker's clock; shown, never compared)."""
    pending_changes: int = 0
    """Changes noticed and not yet handed to a scan."""
    last_scan_job_id: int | None = None
    """The scan that the latest changes were handed to."""
