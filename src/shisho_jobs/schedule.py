"""Scheduled scans: a global scan every ``SHISHO_SCAN_INTERVAL_MINUTES`` (and per library,
every ``Library.scan_interval`` minutes), once per interval across every worker and host.

The settings live here; the worker's duty that starts the scans is
:class:`~shisho_jobs.worker.maintenance.scheduled_scans.ScheduledScans`.

``SHISHO_GLOBAL_SCAN_INTERVAL`` (seconds, the worker's older setting) still works, with a
deprecation warning in the log; when both are set, ``SHISHO_SCAN_INTERVAL_MINUTES`` wins.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from shisho_jobs.config import env_number
from shisho_jobs.errors import InvalidSetting

SCAN_INTERVAL_MINUTES: Final = 60.0  # default minutes between two scheduled global scans
CHECK_SECONDS: Final = 60.0  # seconds between two looks at the schedule, at most
INTERVAL_VARIABLE: Final = "SHISHO_SCAN_INTERVAL_MINUTES"
DEPRECATED_VARIABLE: Final = "SHISHO_GLOBAL_SCAN_INTERVAL"

_logger = logging.getLogger("shisho_jobs.worker")


@dataclass(frozen=True)
class ScheduleSettings:
    """When scans start by themselves.

    Args:
        global_interval_seconds: seconds between two scheduled global scans, measured
            from the last one (never at a worker's start); ``None``: never.
        check_seconds: how often a worker looks at the schedule at most (also how soon
            it learns of a library's own ``scan_interval``).
    """

    global_interval_seconds: float | None = SCAN_INTERVAL_MINUTES * 60
    check_seconds: float = CHECK_SECONDS

    def __post_init__(self) -> None:
        seconds = self.global_interval_seconds
        if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
            raise InvalidSetting(INTERVAL_VARIABLE, "must be a positive number of minutes")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScheduleSettings:
        """The schedule from the environment.

        ``SHISHO_SCAN_INTERVAL_MINUTES`` (minutes, ``0`` = never; default 60) wins; without
        it, the deprecated ``SHISHO_GLOBAL_SCAN_INTERVAL`` (seconds, ``off`` = never) is
        read and a warning logged.

        Raises:
            InvalidSetting: a value that is not a number, by variable.
        """
        env = os.environ if environ is None else environ
        minutes = env.get(INTERVAL_VARIABLE, "").strip()
        deprecated = env.get(DEPRECATED_VARIABLE, "").strip()
        if minutes:
            if deprecated:
                _logger.warning(
                    "%s is deprecated and ignored: %s is set and wins",
                    DEPRECATED_VARIABLE,
                    INTERVAL_VARIABLE,
                )
            value = _number(env, INTERVAL_VARIABLE, "minutes")
            return cls(None if value == 0 else value * 60)
        if deprecated:
            _logger.warning(
                "%s (seconds) is deprecated; set %s (minutes) instead",
                DEPRECATED_VARIABLE,
                INTERVAL_VARIABLE,
            )
            if deprecated.lower() in {"off", "none", "never", "0"}:
                return cls(None)
            return cls(_number(env, DEPRECATED_VARIABLE, "seconds"))
        return cls()


def _number(env: Mapping[str, str], name: str, unit: str) -> float:
    value = env_number(env, name, unit)
    assert value is not None  # only called for a variable that is set
    return value
