"""The reference host's own scanner, paced, so a scan is still running when a test breaks something.

Loaded by the suite's workers with ``--plugin multihost.paced_scanner`` beside the
host's entry point. While ``SHISHO_TEST_SCAN_PACE_SECONDS`` is set, each book file
takes that much longer; everything else (the walk, the metadata, the book writes,
progress, logs, cancellation) is the host's real scanner. Unset: it steps aside and
the host's scanner answers alone.
"""

from __future__ import annotations

import os
import time
from typing import Any, cast

from library_host.database import get_database
from library_host.scanner import scan_library_folder
from shisho_jobs import Library, hookimpl
from shisho_jobs.context import JobContext

PACE_VARIABLE = "SHISHO_TEST_SCAN_PACE_SECONDS"


class _PacedContext:
    """A job context whose every progress report (one per book file) takes ``pace`` longer."""

    def __init__(self, context: JobContext, pace: float) -> None:
        self._context = context
        self._pace = pace

    def progress(self, done: int | float, total: int | float) -> None:
        self._context.progress(done, total)
        if done < total and not self._context.cancelled:
            time.sleep(self._pace)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


@hookimpl(tryfirst=True)
def scan_library(library: Library, context: JobContext) -> dict[str, Any] | None:
    """The host's scan of ``library``, one pace per file; ``None`` when no pace is set."""
    pace = float(os.environ.get(PACE_VARIABLE) or 0)
    if pace <= 0:
        return None
    paced = cast(JobContext, _PacedContext(context, pace))
    return scan_library_folder(get_database(), library, paced).as_dict()
