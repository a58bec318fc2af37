"""Live job events: one shared watcher per server process feeding every open event stream.

The core writes each job change to the ``job_events`` outbox inside the change's own
transaction. The :class:`EventHub` reads that outbox once per wake-up for all subscribers:

- PostgreSQL: a ``LISTEN shisho_jobs`` connection (on a thread of its own) wakes it for
  changes made by any process on any host, plus a slow fallback poll;
- SQLite: commits by other processes wake it within milliseconds (``PRAGMA
  data_version``, see shisho_jobs.sqlite_watch), and it also polls once per tick
  while anyone is subscribed;
- in-process commits wake it at once on both (``Database.on_commit``).

So the number of database queries depends on the tick and the rate of changes, never on
the number of open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final

import anyio.to_thread
import sqlalchemy as sa
from litestar.response import ServerSentEventMessage

from shisho_jobs.db import Database
from shisho_jobs.schema import JobEventRow
from shisho_jobs.service import NOTIFY_CHANNEL
from shisho_jobs.sqlite_watch import SqliteChangeWatcher, sqlite_file

logger = logging.getLogger(__name__)

FETCH_BATCH: Final = 500
"""Events read per query; a backlog is read in several batches."""

MAX_QUEUED_EVENTS: Final = 10_000
"""Events buffered for one slow stream before it is closed (its client resumes with
``Last-Event-ID`` and catches up from the database)."""

UNCLAIMED_TIMEOUT: Final = 30.0  # seconds a subscription may wait for its stream to start

LISTEN_TIMEOUT: Final = 0.2  # seconds; how often the LISTEN thread checks for a stop
LISTEN_RECONNECT_DELAY: Final = 1.0  # seconds between attempts after a lost connection
ERROR_BACKOFF: Final = 1.0  # seconds after a failed outbox query


@dataclass(frozen=True)
class EventRecord:
    """One row of the ``job_events`` outbox."""

    id: int
    event: str
    library_id: int | None
    job_json: str

    def to_message(self) -> ServerSentEventMessage:
        """The SSE message: ``id:`` the event id, ``event:`` its name, ``data:`` the Job JSON."""
        return ServerSentEventMessage(id=self.id, event=self.event, data=self.job_json)


@dataclass(frozen=True)
class EventFilter:
    """Which events one stream may receive."""

    visible_library_ids: Collection[int] | None
    """Libraries the user may access (``None``: all). Global jobs are visible to everyone."""
    library_id: int | None = None
    """Only this library's jobs and global jobs (``None``: every visible job)."""

    def matches(self, library_id: int | None) -> bool:
        """Whether an event about a job of ``library_id`` passes."""
        if library_id is None:
            return True
        if self.visible_library_ids is not None and library_id not in self.visible_library_ids:
            return False
        return self.library_id is None or self.library_id == library_id

    def sql(self) -> list[sa.ColumnElement[bool]]:
        """The same filter as SQL conditions on ``job_events``."""
        column = JobEventRow.library_id
        conditions: list[sa.ColumnElement[bool]] = []
        if self.visible_library_ids is not None:
            conditions.append(
                sa.or_(column.is_(None), column.in_(sorted(self.visible_library_ids)))
            )
        if self.library_id is not None:
            conditions.append(sa.or_(column.is_(None), column == self.library_id))
        return conditions


@dataclass(eq=False)
class Subscription:
    """One open event stream's mailbox. ``None`` in the queue means: close the stream."""

    filter: EventFilter
    start_id: int
    """The last event id already in the outbox when the stream subscribed: live events
    come after it, a resume replays up to it."""
    queue: asyncio.Queue[EventRecord | None] = field(default_factory=asyncio.Queue)
    closed: bool = False
    claimed: bool = False
    """Set when its stream starts sending; see :meth:`EventHub.drop_unclaimed`."""
    subscribed_at: float = field(default_factory=time.monotonic)

    def offer(self, record: EventRecord) -> None:
        """Queue ``record`` if this stream may see it; close the stream when it lags too far."""
        if self.closed or not self.filter.matches(record.library_id):
            return
        if self.queue.qsize() >= MAX_QUEUED_EVENTS:
            self.close()
            return
        self.queue.put_nowait(record)

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
        self.poll_interval = poll_interval
        self.fallback_interval = fallback_interval
        self.always_watch = always_watch
        """Read the outbox even while no stream is open (to keep ``on_cursor`` current)."""
        self.on_cursor = on_cursor
        """Called on the event loop with the newest event id whenever the hub has read up to it."""
        self.outbox_queries = 0
        """How many times the hub has read the outbox (for benchmarks and tests)."""
        self._subscribers: set[Subscription] = set()
        self._cursor: int | None = None
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._remove_commit_listener: Any = None
        self._listener_stop = threading.Event()
        self._listener_thread: threading.Thread | None = None
        self._sqlite_watcher: SqliteChangeWatcher | None = None

    @property
    def subscriber_count(self) -> int:
        """Open streams."""
        return len(self._subscribers)

    @property
    def running(self) -> bool:
        """Whether the hub has started and not stopped."""
        return self._task is not None and not self._stopping

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching (call on the server's event loop, at app start-up)."""
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._remove_commit_listener = self.database.on_commit(self.wake_threadsafe)
        if self.database.dialect == "postgresql":
            self._listener_stop.clear()
            self._listener_thread = threading.Thread(
                target=self._listen, name="shisho-jobs-listen", daemon=True
            )
            self._listener_thread.start()
        elif (path := sqlite_file(self.database)) is not None:
            # A worker in another process committed: read the outbox now rather
            # than at the next poll tick.
            self._sqlite_watcher = SqliteChangeWatcher(path, self.wake_threadsafe)
            self._sqlite_watcher.start()
        self._task = asyncio.create_task(self._run(), name="shisho-jobs-event-hub")

    async def stop(self) -> None:
        """Close every stream and stop watching."""
        self._stopping = True
        self.close_streams()
        if self._remove_commit_listener is not None:
            self._remove_commit_listener()
            self._remove_commit_listener = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sqlite_watcher is not None:
            await anyio.to_thread.run_sync(self._sqlite_watcher.stop)
            self._sqlite_watcher = None
        if self._listener_thread is not None:
            self._listener_stop.set()
            await anyio.to_thread.run_sync(self._listener_thread.join)
            self._listener_thread = None

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

    def _call_soon(self, callback: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(callback)

    # --- subscribing ---------------------------------------------------------------------

    async def subscribe(self, event_filter: EventFilter) -> Subscription:
        """Register a stream; it receives every matching event after ``start_id``."""
        assert self._lock is not None, "EventHub.start() was not called"
        async with self._lock:
            if self._cursor is None or not (self._subscribers or self.always_watch):
                # Nobody listened, so the cursor may be stale: start from the newest event.
                self._set_cursor(await anyio.to_thread.run_sync(self._newest_event_id))
            start_id = self._cursor
            assert start_id is not None
            subscription = Subscription(filter=event_filter, start_id=start_id)
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
                        self._set_cursor(await anyio.to_thread.run_sync(self._newest_event_id))
                    await self._fetch_and_dispatch()
            except Exception:
                logger.exception("reading the job_events outbox failed; retrying")
                await asyncio.sleep(ERROR_BACKOFF)

    async def _fetch_and_dispatch(self) -> None:
        while self._cursor is not None:
            records = await anyio.to_thread.run_sync(self._events_after, self._cursor)
            self.outbox_queries += 1
            for record in records:
                for subscription in list(self._subscribers):
                    subscription.offer(record)
            if records:
                self._set_cursor(records[-1].id)
            if len(records) < FETCH_BATCH:
                return

    def _set_cursor(self, event_id: int) -> None:
        self._cursor = event_id
        if self.on_cursor is not None:
            self.on_cursor(event_id)

    def _events_after(self, cursor: int) -> list[EventRecord]:
        query = (
            sa.select(
                JobEventRow.id, JobEventRow.event, JobEventRow.library_id, JobEventRow.job_json
            )
            .where(JobEventRow.id > cursor)
            .order_by(JobEventRow.id)
            .limit(FETCH_BATCH)
        )
        with self.database.read() as session:
            return [EventRecord(*row) for row in session.execute(query)]

    def _newest_event_id(self) -> int:
        with self.database.read() as session:
            return int(session.scalar(sa.select(sa.func.max(JobEventRow.id))) or 0)

    def _listen(self) -> None:
        """LISTEN thread (PostgreSQL): turn notifications into wake-ups."""
        import psycopg

        args, kwargs = self.database.engine.dialect.create_connect_args(self.database.url)
        kwargs.pop("context", None)  # SQLAlchemy's adapters; a plain connection needs none
        while not self._listener_stop.is_set():
            try:
                with psycopg.connect(*args, autocommit=True, **kwargs) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # Anything committed while we were not listening is read now.
                    self.wake_threadsafe()
                    while not self._listener_stop.is_set():
                        # Wake for each one: the hub coalesces wake-ups that come while
                        # it is reading, and a later commit needs a later read.
                        for _ in connection.notifies(timeout=LISTEN_TIMEOUT):
                            self.wake_threadsafe()
            except psycopg.Error:
                logger.warning("LISTEN %s connection lost; reconnecting", NOTIFY_CHANNEL)
                self._listener_stop.wait(LISTEN_RECONNECT_DELAY)
