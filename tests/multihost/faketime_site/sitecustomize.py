"""Loaded only by the suite's processes whose clock libfaketime moves (see hosts.faketime_env).

libfaketime 0.9.10, told to leave monotonic time alone, fails every ``clock_nanosleep``
with an absolute monotonic deadline, which is how Python's ``time.sleep`` sleeps
(EINVAL). Waiting on a condition variable, as ``threading`` does, works, so in these
processes ``time.sleep`` waits that way. Every clock reading stays libfaketime's.
"""

from __future__ import annotations

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
