"""One event stream: catching up after a reconnect (replay or snapshot), then the live
events its subscription receives from the :class:`~shisho_resync_plugin.events.EventHub`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Final

import anyio.to_thread
import sqlalchemy as sa
from litestar.response import ServerSentEventMessage

from shisho_jobs.db import Database
from shisho_jobs.schema import JobEventRow
from shisho_jobs.service import EVENT_SNAPSHOT
from shisho_resync_plugin.events import EventFilter, EventHub, EventRecord, Subscription

RETRY_MILLISECONDS: Final = 3000
"""Reconnection delay suggested to EventSource clients."""


def plan_resume(
    database: Database,
    subscription: Subscription,
    last_event_id: int,
    *,
    replay_limit: int,
) -> list[EventRecord] | None:
    """The events a stream missed after ``last_event_id``, or ``None`` when they cannot all be
    replayed (too many, no longer kept, or an id this database never gave out).

    Blocking: run in a worker thread.
    """
    if last_event_id > subscription.start_id:
        return None
    with database.read() as session:
        oldest = session.scalar(sa.select(sa.func.min(JobEventRow.id)))
        if oldest is not None and last_event_id < oldest - 1:
            return None
        query = (
            sa.select(
                JobEventRow.id, JobEventRow.event, JobEventRow.library_id, JobEventRow.job_json
            )
            .where(
                JobEventRow.id > last_event_id,
                JobEventRow.id <= subscription.start_id,
                *subscription.filter.sql(),
            )
            .order_by(JobEventRow.id)
            .limit(replay_limit + 1)
        )
        records = [EventRecord(*row) for row in session.execute(query)]
    return None if len(records) > replay_limit else records


Replay = Callable[[Subscription, int], "list[EventRecord] | None"]
Snapshot = Callable[[EventFilter], list[str]]


async def event_stream(
    hub: EventHub,
    subscription: Subscription,
    *,
    resume_after: int | None,
    load_replay: Replay,
    load_snapshot: Snapshot,
    keepalive_interval: float,
) -> AsyncIterator[ServerSentEventMessage]:
    """The messages of one stream: replay or snapshot, then live events and keep-alives.

    Subscribe before the response starts (so nothing committed after the client sees the
    stream open is missed); the stream claims the subscription when it starts and drops it
    when it ends. The hub drops subscriptions never claimed (the client left first).

    Args:
        hub: the process's event hub.
        subscription: this stream's subscription, from :meth:`EventHub.subscribe`.
        resume_after: the ``Last-Event-ID`` of a reconnecting client.
        load_replay: blocking; the missed events, or ``None`` when they cannot be replayed.
        load_snapshot: blocking; Job JSON of the newest visible jobs, oldest first.
        keepalive_interval: seconds of silence before a keep-alive comment.
    """
    subscription.claimed = True
    try:
        yield ServerSentEventMessage(comment="shisho-jobs events", retry=RETRY_MILLISECONDS)
        if resume_after is not None:
            missed = await anyio.to_thread.run_sync(load_replay, subscription, resume_after)
            if missed is None:
                snapshot = await anyio.to_thread.run_sync(load_snapshot, subscription.filter)
                for job_json in snapshot:
                    yield ServerSentEventMessage(
                        id=subscription.start_id, event=EVENT_SNAPSHOT, data=job_json
                    )
            else:
                for record in missed:
                    yield record.to_message()
        while True:
            try:
                live = await asyncio.wait_for(subscription.queue.get(), timeout=keepalive_interval)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            if live is None:
                return
            yield live.to_message()
    finally:
        hub.unsubscribe(subscription)
