"""One PostgreSQL ``LISTEN`` connection on a thread of its own, fanned out to subscribers.

Used by the worker's wake-ups and by the web plugin's event hub alike (as
:mod:`shisho_jobs.sqlite_watch` is for SQLite), so both connect the same way and keep the
same timings.

API::

    listener = PgListener(database)            # channel: outbox.NOTIFY_CHANNEL
    remove = listener.subscribe(callback)      # callback(payload: str | None)
    listener.start()                           # connects and LISTENs in the background
    ...
    remove()                                   # this subscriber no longer called
    listener.stop()                            # closes the connection, joins the thread

- ``callback(payload)`` runs on the listener's thread, once per notification, with the
  notification's payload (``"<event> <job id>"``, see :func:`shisho_jobs.outbox.notify_payload`).
  Keep it short and thread-safe (set an event, ``call_soon_threadsafe``).
- ``callback(None)`` means "(re)connected": notifications sent while the connection was
  down are lost, so a subscriber should look at the database once now. It is called after
  each successful ``LISTEN``, the first one included.
- A lost connection is retried after :data:`RECONNECT_DELAY` seconds, doubling on each
  failure in a row up to :data:`MAX_RECONNECT_DELAY`; a warning is logged per loss.
- A subscriber that raises is logged and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, MutableMapping
from typing import Any, Final

from shisho_jobs.db import Database
from shisho_jobs.outbox import NOTIFY_CHANNEL

CHECK_INTERVAL: Final = 0.2
"""Seconds the thread waits for notifications before it checks whether to stop."""
RECONNECT_DELAY: Final = 1.0
"""Seconds before the first attempt to reconnect a lost connection."""
MAX_RECONNECT_DELAY: Final = 10.0
"""The longest wait between two attempts while the server stays unreachable."""

Subscriber = Callable[[str | None], None]
"""Called with each notification's payload, or ``None`` after each (re)connection."""

_logger = logging.getLogger("shisho_jobs.listen")


class PgListener:
    """A thread that ``LISTEN``\\ s on one channel and calls every subscriber per notification.

    Args:
        database: a PostgreSQL database; the listener opens its own connection to it
            (outside the engine's pool, with the engine's own connect arguments).
        channel: the channel to listen on.
        check_interval: see :data:`CHECK_INTERVAL`.
        reconnect_delay: see :data:`RECONNECT_DELAY`.
        max_reconnect_delay: see :data:`MAX_RECONNECT_DELAY`.
    """

    def __init__(
        self,
        database: Database,
        channel: str = NOTIFY_CHANNEL,
        *,
        check_interval: float = CHECK_INTERVAL,
        reconnect_delay: float = RECONNECT_DELAY,
        max_reconnect_delay: float = MAX_RECONNECT_DELAY,
    ) -> None:
        if database.dialect != "postgresql":
            raise ValueError("PgListener needs a PostgreSQL database")
        args, kwargs = database.engine.dialect.create_connect_args(database.url)
        kwargs.pop("context", None)  # SQLAlchemy's type adapters; a plain connection needs none
        self._connect_args: tuple[list[Any], MutableMapping[str, Any]] = (list(args), kwargs)
        self._channel = channel
        self._check_interval = check_interval
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for every notification from now on.

        Returns:
            A function that removes the subscription again.
        """
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def remove() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return remove

    def start(self) -> None:
        """Connect and listen in the background (returns at once)."""
        if self._thread is not None:
            raise RuntimeError("the listener is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shisho-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop listening and close the connection (waits up to ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        # psycopg is the optional "postgres" extra: only a PostgreSQL user has it.
        import psycopg  # noqa: PLC0415

        delay = self._reconnect_delay
        args, kwargs = self._connect_args
        while not self._stop.is_set():
            try:
                with psycopg.connect(*args, autocommit=True, **kwargs) as connection:
                    connection.execute(f"LISTEN {self._channel}")
                    delay = self._reconnect_delay
                    # Anything committed while we were not listening is looked at now.
                    self._publish(None)
                    while not self._stop.is_set():
                        for notify in connection.notifies(timeout=self._check_interval):
                            self._publish(notify.payload)
            except psycopg.Error as error:
                _logger.warning(
                    "LISTEN %s connection lost (%s); retrying in %.1f s",
                    self._channel,
                    error,
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_reconnect_delay)

    def _publish(self, payload: str | None) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(payload)
            except Exception:
                _logger.exception("a LISTEN subscriber failed")
