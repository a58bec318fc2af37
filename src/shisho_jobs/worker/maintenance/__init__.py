"""The worker's maintenance duties: small services, each with its own interval.

A duty is anything with a ``name``, an ``interval`` (seconds between two runs) and a
``run()`` method (:class:`Duty`). The worker's supervising thread hands its duties to a
:class:`Maintenance`, which runs each one when it is due and tells the thread how long
it may sleep. Adding a duty is writing such a class and passing it to the worker
(``Worker(duties=...)``, or ``Worker.add_duty``).

Built in:

- :class:`~shisho_jobs.worker.maintenance.rescue.RescueExpiredLeases`: jobs of lost workers;
- :class:`~shisho_jobs.worker.maintenance.retention.Retention`: old jobs and outbox rows;
- :class:`~shisho_jobs.worker.maintenance.global_scan.PeriodicGlobalScan`: a global scan
  every so often.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import sqlalchemy as sa

_logger = logging.getLogger("shisho_jobs.worker")


class Duty(Protocol):
    """One maintenance duty of a worker."""

    @property
    def name(self) -> str:
        """Shown in the worker's log when the duty fails."""
        ...

    @property
    def interval(self) -> float:
        """Seconds between two runs."""
        ...

    def run(self) -> None:
        """Do the duty once (blocking; on the worker's supervising thread)."""
        ...


class Maintenance:
    """Runs each duty when it is due: first at once, then every ``interval`` seconds.

    Args:
        duties: the duties, run in this order when several are due.
        clock: seconds on a monotonic clock (for tests).
    """

    def __init__(
        self, duties: Iterable[Duty] = (), *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._due: list[tuple[Duty, float]] = []
        for duty in duties:
            self.add(duty)

    def add(self, duty: Duty) -> None:
        """Run ``duty`` from now on (due at once)."""
        self._due.append((duty, self._clock()))

    @property
    def duties(self) -> list[Duty]:
        """The duties, in the order they run."""
        return [duty for duty, _ in self._due]

    def run_due(self) -> None:
        """Run every duty that is due; a failing duty is logged and tried again next time."""
        for index, (duty, due) in enumerate(self._due):
            now = self._clock()
            if now < due:
                continue
            # Rescheduled before running: a duty that fails waits its interval, as one that works.
            self._due[index] = (duty, now + duty.interval)
            try:
                duty.run()
            except sa.exc.SQLAlchemyError:
                _logger.exception("database error in the %s duty; retrying later", duty.name)

    def seconds_until_next(self) -> float:
        """How long until the next duty is due (0 when one is due now)."""
        if not self._due:
            return float("inf")
        return max(0.0, min(due for _, due in self._due) - self._clock())
