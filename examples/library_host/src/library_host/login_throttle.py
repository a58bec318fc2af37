"""Throttling password guessing: failed sign-ins counted per account and per client address.

Counted with the ``limits`` package (a moving window kept in this process's
memory). Only failures count, so people who sign in many times (tests, shared
machines) are never slowed down. Once either count is full, every attempt of
that account or from that address, the right password included, is refused
until the window has moved on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

FAILED_SIGN_INS_PER_ACCOUNT = "20/minute"
"""Wrong passwords for one user name, from anywhere, before that name is throttled."""
FAILED_SIGN_INS_PER_ADDRESS = "100/minute"
"""Failed sign-ins from one client address, whatever the names, before it is throttled:
more than one account's worth, as a household or an office shares one address."""
_NAME_KEY_LENGTH = 128
"""Characters of a typed name used as its key: names are at most 64, and a 10 MB "name"
must not be kept in memory for a minute."""


@dataclass
class LoginThrottle:
    """Failed sign-ins per account and per address; one per app (``app.state.login_throttle``)."""

    per_account: RateLimitItem = field(default_factory=lambda: parse(FAILED_SIGN_INS_PER_ACCOUNT))
    per_address: RateLimitItem = field(default_factory=lambda: parse(FAILED_SIGN_INS_PER_ADDRESS))
    _limiter: MovingWindowRateLimiter = field(
        default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()), repr=False
    )

    def _counts(self, username: str, address: str) -> tuple[tuple[RateLimitItem, str, str], ...]:
        return (
            (self.per_account, "account", username[:_NAME_KEY_LENGTH]),
            (self.per_address, "address", address),
        )

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until ``username`` may be tried from ``address`` again; ``None``: now.

        Args:
            username: the name typed into the login form.
            address: the client's address.
        """
        waits = [
            self._limiter.get_window_stats(item, kind, key).reset_time - time.time()
            for item, kind, key in self._counts(username, address)
            if not self._limiter.test(item, kind, key)
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, username: str, address: str) -> None:
        """Count one failed sign-in of ``username`` from ``address``."""
        for item, kind, key in self._counts(username, address):
            self._limiter.hit(item, kind, key)

    def succeeded(self, username: str) -> None:
        """Forget the account's failures: its owner knows the password."""
        self._limiter.clear(self.per_account, "account", username[:_NAME_KEY_LENGTH])
