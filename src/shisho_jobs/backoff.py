"""How long to wait before trying the database again after failures in a row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

FIRST_DELAY: Final = 0.5  # seconds after the first failure
MOST_DELAY: Final = 10.0  # seconds; the delay stops doubling here


@dataclass
class Backoff:
    """Bounded exponential back-off: ``first``, twice that, ... up to ``most`` seconds.

    A loop calls :meth:`failed` after each failure (and waits what it returns) and
    :meth:`succeeded` after each success, so an outage costs few attempts and a
    recovered database is used again within ``most`` seconds.
    """

    first: float = FIRST_DELAY
    most: float = MOST_DELAY
    failures: int = field(default=0, init=False)
    """Failures in a row so far."""

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        delay: float = min(self.first * 2.0**self.failures, self.most)
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        """Count a success: the next failure waits ``first`` again."""
        self.failures = 0
