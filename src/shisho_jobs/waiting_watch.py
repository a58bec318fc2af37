"""A thread that keeps pending jobs' ``waiting`` true in a process that runs no worker.

Workers refresh ``waiting`` themselves, but when the last worker is killed nobody is
left to notice. A web host runs this watch (the Litestar plugin does), so a pending
job says "No worker is running." by itself within about ``interval`` seconds after the
last worker's row expired. Each look is two small reads; it writes only on a change.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

import sqlalchemy as sa

from shisho_jobs.service import JobService

DEFAULT_INTERVAL: Final = 2.0  # seconds between two looks
STOP_TIMEOUT: Final = 5.0  # seconds stop() waits for the thread

_logger = logging.getLogger("shisho_jobs")


class WaitingWatch:
    """Runs :meth:`JobService.refresh_waiting` every ``interval`` seconds on its own thread.

    Args:
        service: the jobs.
        interval: seconds between two looks.
    """

    def __init__(self, service: JobService, *, interval: float = DEFAULT_INTERVAL) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._service = service
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start looking (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="shisho-waiting", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking and wait for the thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._service.refresh_waiting()
            except sa.exc.SQLAlchemyError:
                _logger.exception("could not refresh the waiting of pending jobs; retrying")
