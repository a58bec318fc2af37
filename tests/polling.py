"""The one way tests, e2e and benchmarks wait for something: poll it with a deadline.

Importable as ``polling`` from every test folder (``tests/`` is on ``sys.path`` through its
conftest), and from ``e2e/`` and ``bench/`` after they put ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL = 0.02  # seconds between two looks when nothing wakes the wait earlier


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL,
    wake: threading.Event | None = None,
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    Args:
        check: returns the awaited value, or something falsy (``None``, ``False``) while
            it is not there yet. Exceptions it raises end the wait.
        timeout: seconds before giving up.
        what: what is awaited, for the failure message ("job 3 finishes").
        interval: seconds between two looks.
        wake: an event set when looking again is worthwhile (a commit, a message); the wait
            then returns as soon as it is set instead of sleeping a whole ``interval``.

    Returns:
        The first truthy value ``check`` returned.

    Raises:
        AssertionError: ``timeout`` passed first.
    """
    deadline = time.monotonic() + timeout
    while True:
        if wake is not None:
            wake.clear()  # before looking: whatever happens from now on wakes the next wait
        value = check()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        if wake is not None:
            wake.wait(min(remaining, interval))
        else:
            time.sleep(min(remaining, interval))
