"""A worker plugin for the e2e tests: the scanner of a library on a share that stopped answering.

Loaded into a ``shisho-jobs worker`` with ``--plugin stuck_share`` (this folder on
``PYTHONPATH``). Its ``scan_library`` answers first for the library named :data:`STUCK_NAME`
only: it reports a little progress, then waits as a read from a dead network share would,
heartbeats going on, until the scan is cancelled. Every other library goes to the host's
scanner.
"""

from __future__ import annotations

import time

from shisho_jobs import JobContext, Library, hookimpl

STUCK_NAME = "Stuck share"
CHECK_INTERVAL = 0.05  # seconds between two looks at the cancel flag


@hookimpl(tryfirst=True)
def scan_library(library: Library, context: JobContext) -> dict[str, int] | None:
    """Hang on the stuck library until cancelled; ``None`` (the host's scanner) for the others."""
    if library.name != STUCK_NAME:
        return None
    context.progress(1, 10)
    context.log.info("Reading the share...")
    while not context.cancelled:
        time.sleep(CHECK_INTERVAL)
    context.log.info("Scan stopped before the end; it kept what it had read")
    return {"files": 10, "added": 0, "updated": 0, "removed": 0, "unchanged": 1}
