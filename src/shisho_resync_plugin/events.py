"""Live job events: one shared watcher per server process feeding every open event stream.

The core writes each job change to the ``job_events`` outbox inside the change's own
transaction. The :class:`EventHub` reads that outbox once per wake-up for all subscribers
(:class:`shisho_jobs.outbox.Outbox`), and wakes up when:

- PostgreSQL: the core's one LISTEN connection (:class:`shisho_jobs.pg_listener.PgListener`,
  the worker's wake-ups use the same) hears a notification from any process on any host, or
  reconnects; a slow fallback poll covers anything else;
- SQLite: another process commits (``PRAGMA data_version``, see
  :mod:`shisho_jobs.sqlite_watch`); it also polls once per tick while anyone is subscribed;
- this process commits (``Database.on_commit``), on both.

So the number of database queries depends on the tick and the rate of changes, never on
the number of open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import anyio.to_thread

from shisho_jobs.db import Database
from shisho_jobs.outbox import Outbox, OutboxEvent
from shisho_jobs.pg_listener import PgListener
from shisho_jobs.sqlite_watch import SqliteChangeWatcher, sqlite_file
from shisho_jobs.visibility import Visibility

logger = logging.getLogger(__name__)

FETCH_BATCH: Final = 500
"""Events read per query; a backlog is read in several batches."""

MAX_QUEUED_EVENTS: Final = 10_000
"""Events buffered for one slow stream before it is closed (its client resumes with
``Last-Event-ID`` and catches up from the database)."""

UNCLAIMED_TIMEOUT: Final = 30.0  # seconds a subscription may wait for its stream to start

ERROR_BACKOFF: Final = 1.0  # seconds after a failed outbox query


@dataclass(eq=False)
class Subscription:
    """One open event stream's mailbox. ``None`` in the queue means: close the stream."""

    visibility: Visibility
    """Which events the stream may receive."""
    start_id: int
    """The last event id already in the outbox when the stream subscribed: live events
    come after it, a resume replays up to it."""
    queue: asyncio.Queue[OutboxEvent | None] = field(default_factory=asyncio.Queue)
    closed: bool = False
    claimed: bool = False
    """Set when its stream starts sending; see :meth:`EventHub.drop_unclaimed`."""
    subscribed_at: float = field(default_factory=time.monotonic)

    def offer(self, event: OutboxEvent) -> None:
        """Queue ``event`` if this stream may see it; close the stream when it lags too far."""
        if self.closed or not self.visibility.matches(event.library_id):
            return
        if self.queue.qsize() >= MAX_QUEUED_EVENTS:
            self.close()
            return
        self.queue.put_nowait(event)

    def close(self) -> None:
        """Ask the stream to end after what it already has."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class EventHub:
    """The process's one watcher of the ``job_events`` outbox, shared by all streams.

    Args:
        database: the jobs database.
        poll_interval: seconds between outbox reads on SQLite while anyone listens.
        fallback_interval: seconds between outbox reads on PostgreSQL without notifications.
        always_watch: read the outbox even while no stream is open (to keep ``on_cursor``
            current).
        on_cursor: called on the event loop with the newest event id whenever the hub has
            read up to it.
    """

    def __init__(
        self,
        database: Database,
        *,
        poll_interval: float,
        fallback_interval: float,
        always_watch: bool = False,
        on_cursor: Callable[[int], None] | None = None,
    ) -> None:
        self.database = database
        self.outbox = Outbox(database)
        self.poll_interval = poll_interval
        self.fallback_interval = fallback_interval
        self.always_watch = always_watch
        self.on_cursor = on_cursor
        self.outbox_queries = 0
        """How many times the hub has read the outbox (for benchmarks and tests)."""
        self._subscribers: set[Subscription] = set()
        self._cursor: int | None = None
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_waking: list[Callable[[], None]] = []
        self._pg_listener: PgListener | None = None
        self._sqlite_watcher: SqliteChangeWatcher | None = None

    @property
    def subscriber_count(self) -> int:
        """Open streams."""
        return len(self._subscribers)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching (call on the server's event loop, at app start-up)."""
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._stop_waking.append(self.database.on_commit(self.wake_threadsafe))
        if self.database.dialect == "postgresql":
            listener = self._pg_listener = PgListener(self.database)
            # A notification, or a (re)connection after which anything missed is read.
            self._stop_waking.append(listener.subscribe(lambda _payload: self.wake_threadsafe()))
            listener.start()
        elif (path := sqlite_file(self.database)) is not None:
            self._sqlite_watcher = SqliteChangeWatcher(path, self.wake_threadsafe)
            self._sqlite_watcher.start()
        self._task = asyncio.create_task(self._run(), name="shisho-jobs-event-hub")

    async def stop(self) -> None:
        """Close every stream and stop watching."""
        self._stopping = True
        self.close_streams()
        while self._stop_waking:
            self._stop_waking.pop()()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sqlite_watcher is not None:
            await anyio.to_thread.run_sync(self._sqlite_watcher.stop)
            self._sqlite_watcher = None
        if self._pg_listener is not None:
            await anyio.to_thread.run_sync(self._pg_listener.stop)
            self._pg_listener = None

    def close_streams(self) -> None:
        """End every open stream now (they finish what they already hold)."""
        for subscription in list(self._subscribers):
            subscription.close()

    def close_streams_threadsafe(self) -> None:
        """:meth:`close_streams` from any thread (signal handlers, other threads)."""
        self._stopping = True
        self._call_soon(self.close_streams)

    def wake_threadsafe(self) -> None:
        """Look at the outbox soon (called after in-process commits and on notifications)."""
        if self._wake is not None:
            self._call_soon(self._wake.set)

    def _call_soon(self, callback: Callable[[], Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(callback)

    # --- subscribing ---------------------------------------------------------------------

    async def subscribe(self, visibility: Visibility) -> Subscription:
        """Register a stream; it receives every event it may see after ``start_id``."""
        assert self._lock is not None, "EventHub.start() was not called"
        async with self._lock:
            if self._cursor is None or not (self._subscribers or self.always_watch):
                # Nobody listened, so the cursor may be stale: start from the newest event.
                self._set_cursor(await anyio.to_thread.run_sync(self.outbox.latest_id))
            start_id = self._cursor
            assert start_id is not None
            subscription = Subscription(visibility=visibility, start_id=start_id)
            if self._stopping:
                subscription.close()
            else:
                self._subscribers.add(subscription)
            return subscription

    def drop_unclaimed(self, older_than: float = UNCLAIMED_TIMEOUT) -> None:
        """Forget subscriptions whose stream never started (the client left before it)."""
        limit = time.monotonic() - older_than
        for subscription in list(self._subscribers):
            if not subscription.claimed and subscription.subscribed_at < limit:
                self._subscribers.discard(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a stream (it ended or its client went away)."""
        self._subscribers.discard(subscription)

    # --- watching ------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None and self._lock is not None
        interval = (
            self.poll_interval if self.database.dialect == "sqlite" else self.fallback_interval
        )
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            self.drop_unclaimed()
            if not (self._subscribers or self.always_watch):
                continue
            try:
                async with self._lock:
                    if self._cursor is None:
                        self._set_cursor(await anyio.to_thread.run_sync(self.outbox.latest_id))
                    await self._fetch_and_dispatch()
            except Exception:
                logger.exception("reading the job_events outbox failed; retrying")
                await asyncio.sleep(ERROR_BACKOFF)

    async def _fetch_and_dispatch(self) -> None:
        while self._cursor is not None:
            events = await anyio.to_thread.run_sync(self._events_after, self._cursor)
            self.outbox_queries += 1
            for event in events:
                for subscription in list(self._subscribers):
                    subscription.offer(event)
            if events:
                self._set_cursor(events[-1].id)
            if len(events) < FETCH_BATCH:
                return

    def _events_after(self, cursor: int) -> list[OutboxEvent]:
        return self.outbox.events_after(cursor, limit=FETCH_BATCH)

    def _set_cursor(self, event_id: int) -> None:
        self._cursor = event_id
        if self.on_cursor is not None:
            self.on_cursor(event_id)
