"""Run by test_watch_limit.py inside a user namespace whose inotify watch limit is tiny.

Usage: ``python limit_probe.py DATABASE_URL FOLDER``. Watches the folder as library 1
with OS events, adds a file once the watcher has settled on how it watches, waits for
the scan and prints the library's health as JSON. The warning goes to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import msgspec

from shisho_jobs import Database, JobService, Library, ListJobsOptions
from shisho_jobs.plugins import get_plugin_manager
from shisho_jobs.watch import LibraryWatcher, WatchSettings, WorkerScanStarter
from shisho_jobs.worker.store import WorkerStore

TIMEOUT = 20.0  # seconds


def main(database_url: str, folder: Path) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    database = Database(database_url)
    service = JobService(database, plugin_manager=get_plugin_manager(load_entry_points=False))
    settings = WatchSettings(debounce_seconds=0.3, max_wait_seconds=3, poll_seconds=0.2)
    books = Library(id=1, name="Books", path=str(folder), watch="events")
    watcher = LibraryWatcher(
        list_libraries=lambda: [books],
        starter=WorkerScanStarter(service, WorkerStore(database, service.job_types)),
        settings=settings,
    )
    watcher.start()
    deadline = time.monotonic() + TIMEOUT
    try:
        while not watcher.health() or watcher.health()[0].state == "starting":
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.02)
        (folder / "Austen" / "Persuasion.epub").write_bytes(b"persuasion")
        while not service.list_jobs(ListJobsOptions(type="scan")):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        print(msgspec.json.encode(watcher.health()[0]).decode())
    finally:
        watcher.stop()
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
