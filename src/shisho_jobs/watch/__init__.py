"""Folder watching: libraries that resync themselves when their files change.

A worker runs one :class:`LibraryWatcher` (see :func:`start_library_watcher`); it
watches each library's folder (``Library.path``) by OS events or by polling
(``Library.watch``), waits for the changes to settle (``SHISHO_WATCH_DEBOUNCE_SECONDS``,
at most ``SHISHO_WATCH_MAX_WAIT_SECONDS``) and asks its :class:`ScanStarter` for a
targeted scan of what changed (``JobScanData.paths``).
"""

from __future__ import annotations

from shisho_jobs.watch.health import WatchHealth, WatchMode, WatchState
from shisho_jobs.watch.settings import WatchSettings
from shisho_jobs.watch.starter import ScanAnswer, ScanStarter, WorkerScanStarter
from shisho_jobs.watch.watcher import LibraryWatcher, ListLibraries

__all__ = [
    "LibraryWatcher",
    "ListLibraries",
    "ScanAnswer",
    "ScanStarter",
    "WatchHealth",
    "WatchMode",
    "WatchSettings",
    "WatchState",
    "WorkerScanStarter",
    "start_library_watcher",
]


def start_library_watcher(
    *,
    list_libraries: ListLibraries,
    starter: ScanStarter,
    settings: WatchSettings | None = None,
    process_id: str | None = None,
) -> LibraryWatcher | None:
    """Start watching the libraries, unless watching is off.

    Args:
        list_libraries: the libraries this worker can scan.
        starter: creates or joins the scans.
        settings: by default :meth:`WatchSettings.from_env`.
        process_id: the worker's name, for the health report.

    Returns:
        The running watcher, or ``None`` when ``SHISHO_WATCH=0`` (no watcher at all,
        no thread, no OS watch).
    """
    settings = WatchSettings.from_env() if settings is None else settings
    if not settings.enabled:
        return None
    watcher = LibraryWatcher(
        list_libraries=list_libraries, starter=starter, settings=settings, process_id=process_id
    )
    watcher.start()
    return watcher
