"""Watch settings read from the environment (CONTRACT section 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from shisho_jobs.config import env_number
from shisho_jobs.errors import InvalidSetting

DEBOUNCE_SECONDS: Final = 15.0  # quiet time after a library's last change before its scan
MAX_WAIT_SECONDS: Final = 120.0  # longest a change waits while changes keep coming
POLL_SECONDS: Final = 30.0  # seconds between two looks at a polled library (notify's default)
REFRESH_SECONDS: Final = 60.0  # seconds between two re-reads of the library list
SETTLE_SECONDS: Final = 1.0  # a change younger than this is still in progress at a cap flush


@dataclass(frozen=True)
class WatchSettings:
    """How workers watch library folders.

    Args:
        enabled: ``SHISHO_WATCH``; ``False`` starts no watcher at all.
        debounce_seconds: ``SHISHO_WATCH_DEBOUNCE_SECONDS``.
        max_wait_seconds: ``SHISHO_WATCH_MAX_WAIT_SECONDS``.
        poll_seconds: ``SHISHO_WATCH_POLL_SECONDS``, for libraries that are polled
            (``Library.watch == "poll"``, or events could not be set up).
        refresh_seconds: how often the library list is read again, so libraries added
            or removed while the worker runs are watched or dropped.
    """

    enabled: bool = True
    debounce_seconds: float = DEBOUNCE_SECONDS
    max_wait_seconds: float = MAX_WAIT_SECONDS
    poll_seconds: float = POLL_SECONDS
    refresh_seconds: float = REFRESH_SECONDS

    def __post_init__(self) -> None:
        if self.debounce_seconds < 0:
            raise InvalidSetting("SHISHO_WATCH_DEBOUNCE_SECONDS", "must be 0 or more")
        if self.max_wait_seconds < self.debounce_seconds:
            raise InvalidSetting(
                "SHISHO_WATCH_MAX_WAIT_SECONDS",
                "must be at least SHISHO_WATCH_DEBOUNCE_SECONDS",
            )
        if self.poll_seconds <= 0:
            raise InvalidSetting("SHISHO_WATCH_POLL_SECONDS", "must be more than 0")
        if self.refresh_seconds <= 0:
            raise InvalidSetting("refresh_seconds", "must be more than 0")

    @property
    def settle_seconds(self) -> float:
        """A change younger than this is not read yet when the cap forces a scan."""
        return min(SETTLE_SECONDS, self.debounce_seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WatchSettings:
        """The settings from ``SHISHO_WATCH*`` variables; unset ones take their defaults.

        Raises:
            InvalidSetting: a variable that is not a number (or ``0``/``1``), by name.
        """
        env = os.environ if environ is None else environ
        return cls(
            enabled=_flag(env, "SHISHO_WATCH", default=True),
            debounce_seconds=_seconds(env, "SHISHO_WATCH_DEBOUNCE_SECONDS", DEBOUNCE_SECONDS),
            max_wait_seconds=_seconds(env, "SHISHO_WATCH_MAX_WAIT_SECONDS", MAX_WAIT_SECONDS),
            poll_seconds=_seconds(env, "SHISHO_WATCH_POLL_SECONDS", POLL_SECONDS),
        )


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidSetting(name, f"must be 0 or 1, got {raw!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env_number(env, name, "seconds")
    return default if value is None else value
