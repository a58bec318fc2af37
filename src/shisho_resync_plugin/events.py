"""Live job events: one shared watcher per server process feeding every open event stream.

The core writes each job change to the ``job_events`` outbox inside the change's own
transaction. The :class:`EventHub` reads that outbox once per wake-up for all subscribers
(:class:`shisho_jobs.outbox.Outbox`), and wakes up when:

- PostgreSQL: the core's one LISTEN connection (:class:`shisho_jobs.pg_listener.PgListener`,
  the worker's wake-ups use the same) hears a notification from any process on any host, or
  reconnects; a slow fallback poll covers anything else;
- SQLite: another process commits (``PRAGMA data_version``, see
  :mod:`shisho_jobs.sqlite_watch`); it also polls once per tick while anyone is subscribed;
- this process commits (``Database.on_commit``), on both;
- PostgreSQL: a read found events possibly held back behind transactions still running
  (writers take no lock, so ids may commit out of order; see
  :mod:`shisho_jobs.outbox_horizon`): it reads again after 10 ms, doubling up to 0.5 s.

So the number of database queries depends on the tick and the rate of changes, never on
the number of open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Final

import anyio.to_thread

from shisho_jobs.backoff import Backoff
from shisho_jobs.db import Database, is_connection_lost
from shisho_jobs.errors import OutboxNotSettled
from shisho_jobs.outbox import LiveRead, Outbox, OutboxEvent
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

HELD_BACK_FIRST_DELAY: Final = 0.01
HELD_BACK_MAX_DELAY: Final = 0.5
"""Seconds before the hub reads again after a read held back by running transactions
(PostgreSQL), doubling while they stay open: most end within a commit's latency."""


class TooManyStreams(Exception):
    """The owner already has as many open streams as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} open event streams per user")
        self.limit = limit


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
    owner: Hashable = None
    """Whose stream it is (streams per owner are limited; ``None``: nobody's, unlimited)."""

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
        on_cursor: called on the event loop with the newest event id the hub knows to be
            committed whenever it changes: the hub's cursor, or above it while events are
            held back (PostgreSQL) — the jobs changed even if streams cannot have it yet.
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
        self.held_back_reads = 0
        """PostgreSQL: reads that found events possibly still held back by transactions
        running at the time, so the hub read again soon (for benchmarks and tests)."""
        self._held_back = False
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

    async def subscribe(
        self,
        visibility: Visibility,
        *,
        owner: Hashable = None,
        max_per_owner: int | None = None,
    ) -> Subscription:
        """Register a stream; it receives every event it may see after ``start_id``.

        Args:
            visibility: what the stream's reader may receive.
            owner: whose stream it is (a user), for ``max_per_owner``.
            max_per_owner: how many open streams one owner may have (``None``: no limit).

        Raises:
            TooManyStreams: ``owner`` already has ``max_per_owner`` open streams.
        """
        assert self._lock is not None, "EventHub.start() was not called"
        if owner is not None and max_per_owner is not None:
            self.drop_unclaimed()
            if self.streams_of(owner) >= max_per_owner:
                raise TooManyStreams(max_per_owner)
        async with self._lock:
            if self._cursor is None or not (self._subscribers or self.always_watch):
                # Nobody listened, so the cursor may be stale: start from the newest event.
                self._set_cursor(await anyio.to_thread.run_sync(self.outbox.latest_id))
            start_id = self._cursor
            assert start_id is not None
            subscription = Subscription(visibility=visibility, start_id=start_id, owner=owner)
            if self._stopping:
                subscription.close()
            else:
                self._subscribers.add(subscription)
            return subscription

    def streams_of(self, owner: Hashable) -> int:
        """How many open (or opening) streams ``owner`` has."""
        return sum(1 for subscription in self._subscribers if subscription.owner == owner)

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
        backoff = Backoff()
        held_back_delay = HELD_BACK_FIRST_DELAY
        while not self._stopping:
            if self._held_back:
                # Nothing will announce that the transactions holding events back have
                # ended: look again soon, less often the longer they stay open.
                timeout, held_back_delay = (
                    held_back_delay,
                    min(held_back_delay * 2, HELD_BACK_MAX_DELAY),
                )
            else:
                timeout, held_back_delay = interval, HELD_BACK_FIRST_DELAY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()
            self.drop_unclaimed()
            if not (self._subscribers or self.always_watch):
                continue
            try:
                async with self._lock:
                    if self._cursor is None:
                        self._set_cursor(await anyio.to_thread.run_sync(self.outbox.latest_id))
                    await self._fetch_and_dispatch()
                backoff.succeeded()
            except Exception as error:
                # Streams stay open through an outage and catch up once it is over.
                delay = backoff.failed()
                if is_connection_lost(error):
                    logger.warning("database unreachable; reading the outbox again in %g s", delay)
                elif isinstance(error, OutboxNotSettled):
                    logger.warning("%s (reading the outbox again in %g s)", error.message, delay)
                else:
                    logger.exception("reading the job_events outbox failed; retrying")
                await asyncio.sleep(delay)

    async def _fetch_and_dispatch(self) -> None:
        while self._cursor is not None:
            read = await anyio.to_thread.run_sync(self._new_events_after, self._cursor)
            self.outbox_queries += 1
            self._held_back = read.held_back
            self.held_back_reads += read.held_back
            for event in read.events:
                for subscription in list(self._subscribers):
                    subscription.offer(event)
            if read.events:
                self._set_cursor(read.events[-1].id)
            if self.on_cursor is not None and read.newest_committed > (self._cursor or 0):
                self.on_cursor(read.newest_committed)
            if len(read.events) < FETCH_BATCH:
                return

    def _new_events_after(self, cursor: int) -> LiveRead:
        return self.outbox.new_events_after(cursor, limit=FETCH_BATCH)

    def _set_cursor(self, event_id: int) -> None:
        self._cursor = event_id
        if self.on_cursor is not None:
            self.on_cursor(event_id)
