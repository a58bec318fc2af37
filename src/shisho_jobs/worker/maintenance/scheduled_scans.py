"""Scheduled scans: a global scan every ``SHISHO_SCAN_INTERVAL_MINUTES``, and each library's
own (``Library.scan_interval``), once per interval across every worker and host.

"Once per interval" is the database's to decide: the scan is created through start-or-join
with ``unless_created_within`` the interval, which looks for a scheduled scan of that scope
created within it under the same lock as the insert, by the database's clock. So two
workers that find the schedule due at the same moment make one scan, and the interval is
measured from the last scheduled run. Never at start-up: a worker waits one interval
(measured on its own monotonic clock, a duration) before its first look.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from shisho_jobs.enums import JobTrigger, JobType
from shisho_jobs.hooktypes import Library
from shisho_jobs.schedule import ScheduleSettings
from shisho_jobs.service import JobService

MIN_CHECK_INTERVAL: Final = 0.2  # seconds; a very short schedule (tests) is looked at this often
CHECKS_PER_INTERVAL: Final = 4  # looks per schedule interval, so a run starts at most 1/4 late

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass
class ScheduledScans:
    """Start the scheduled scans that are due (``trigger: "schedule"``).

    Args:
        service: creates the scans (start-or-join, once per interval).
        list_libraries: the libraries, for their own ``scan_interval`` (minutes).
        settings: the global schedule.
        clock: seconds on a monotonic clock (for tests).
    """

    service: JobService
    list_libraries: Callable[[], Sequence[Library] | None]
    settings: ScheduleSettings
    clock: Callable[[], float] = time.monotonic
    name: str = "schedule"
    interval: float = field(init=False)
    """Seconds until the next look; follows the shortest schedule known."""

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._started_up = False
        self.interval = self._check_interval([self.settings.global_interval_seconds])

    def run(self) -> None:
        """Start the global scan and the libraries' scans whose interval has passed."""
        if not self._started_up:
            # The duty's first run is the worker's start: never a scheduled scan then.
            self._started_up = True
            return
        up_for = self.clock() - self._started
        intervals: list[float | None] = [self.settings.global_interval_seconds]
        seconds = self.settings.global_interval_seconds
        if seconds is not None and up_for >= seconds:
            self._start(None, seconds)
        for library in self.list_libraries() or ():
            if library.scan_interval is None or library.scan_interval <= 0:
                continue
            own = library.scan_interval * 60
            intervals.append(own)
            if up_for >= own:
                self._start(library.id, own)
        self.interval = self._check_interval(intervals)

    def _start(self, library_id: int | None, seconds: float) -> None:
        job, created = self.service.start_or_join(
            JobType.SCAN.value,
            library_id=library_id,
            trigger=JobTrigger.SCHEDULE,
            unless_created_within=seconds,
        )
        if created:
            scope = "global" if library_id is None else f"library {library_id}"
            _logger.info("started scheduled %s scan %s", scope, job.id)

    def _check_interval(self, intervals: Sequence[float | None]) -> float:
        longest = self.settings.check_seconds
        known = [seconds for seconds in intervals if seconds is not None]
        if not known:
            return longest
        return min(longest, max(MIN_CHECK_INTERVAL, min(known) / CHECKS_PER_INTERVAL))
