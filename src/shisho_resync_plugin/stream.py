"""One event stream: catching up after a reconnect (replay or snapshot), then the live
events its subscription receives from the :class:`~shisho_resync_plugin.events.EventHub`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import anyio.to_thread
import msgspec
from litestar.response import ServerSentEventMessage

from shisho_jobs import JobService
from shisho_jobs.filters import ListJobsFilter
from shisho_jobs.outbox import EVENT_SNAPSHOT, Outbox, OutboxEvent
from shisho_resync_plugin.events import EventHub, Subscription

RETRY_MILLISECONDS: Final = 3000
"""Reconnection delay suggested to EventSource clients."""

CatchUp = Callable[[Subscription, int], list[ServerSentEventMessage]]
"""Blocking: the messages a stream resuming after an event id sends before its live events."""

StillAllowed = Callable[[], Awaitable[bool]]
"""Whether the stream's reader may still receive it (signed in, same access)."""


_SILENCE: Final = OutboxEvent(id=0, event="", library_id=None, job_json="")
"""Stands for a wait that ended without an event."""


def message_of(event: OutboxEvent, subscription: Subscription) -> ServerSentEventMessage:
    """The SSE message: ``id:`` the event id, ``event:`` its name, ``data:`` the Job JSON as
    the stream's reader may receive it."""
    data = event.job_json_for(subscription.visibility)
    return ServerSentEventMessage(id=event.id, event=event.event, data=data)


def missed_events(
    outbox: Outbox, subscription: Subscription, last_event_id: int, *, replay_limit: int
) -> list[OutboxEvent] | None:
    """The events a stream missed after ``last_event_id``, or ``None`` when they cannot all be
    replayed (too many, no longer kept, or an id this database never gave out).

    Blocking: run in a worker thread.
    """
    if last_event_id > subscription.start_id:
        return None
    events = outbox.events_after(
        last_event_id,
        limit=replay_limit + 1,
        up_to=subscription.start_id,
        visibility=subscription.visibility,
    )
    # Read after the events: a pruning in between shows here, so no gap goes unnoticed
    # (also when the stream starts at or below the last id: its live events come after a
    # gap too).
    oldest = outbox.oldest_id()
    if oldest is not None and last_event_id < oldest - 1:
        return None
    # An outbox emptied by pruning: ids below the start id were drawn (the start id counts
    # every id drawn), and are gone.
    if oldest is None and last_event_id < subscription.start_id:
        return None
    return None if len(events) > replay_limit else events


def resume_messages(
    outbox: Outbox,
    service: JobService,
    subscription: Subscription,
    last_event_id: int,
    *,
    replay_limit: int,
    snapshot_size: int,
) -> list[ServerSentEventMessage]:
    """What a stream resuming after ``last_event_id`` sends first: the events it missed, or,
    when they cannot all be replayed, a ``job.snapshot`` of each of the newest jobs it may
    see (oldest first, each with the stream's start id).

    Blocking: run in a worker thread.
    """
    missed = missed_events(outbox, subscription, last_event_id, replay_limit=replay_limit)
    if missed is not None:
        return [message_of(event, subscription) for event in missed]
    visibility = subscription.visibility
    jobs = service.list_jobs(
        ListJobsFilter(
            limit=snapshot_size,
            library_id_or_global=visibility.library_id,
            visible_library_ids=visibility.visible_library_ids,
        )
    )
    return [
        ServerSentEventMessage(
            id=subscription.start_id, event=EVENT_SNAPSHOT, data=msgspec.json.encode(job).decode()
        )
        for job in reversed(jobs)
    ]


async def event_stream(
    hub: EventHub,
    subscription: Subscription,
    *,
    resume_after: int | None,
    catch_up: CatchUp,
    keepalive_interval: float,
    still_allowed: StillAllowed | None = None,
) -> AsyncIterator[ServerSentEventMessage]:
    """The messages of one stream: replay or snapshot, then live events and keep-alives.

    Subscribe before the response starts (so nothing committed after the client sees the
    stream open is missed); the stream claims the subscription when it starts and drops it
    when it ends. The hub drops subscriptions never claimed (the client left first).

    Args:
        hub: the process's event hub.
        subscription: this stream's subscription, from :meth:`EventHub.subscribe`.
        resume_after: the ``Last-Event-ID`` of a reconnecting client.
        catch_up: blocking; what a resuming stream sends first (see :func:`resume_messages`).
        keepalive_interval: seconds of silence before a keep-alive comment.
        still_allowed: asked at least once every ``keepalive_interval`` (busy or idle): the
            stream ends as soon as it answers ``False`` (its session ended, its user's
            access changed), before sending anything more.
    """
    subscription.claimed = True
    due = time.monotonic() + keepalive_interval  # the next keep-alive and access check
    try:
        yield ServerSentEventMessage(comment="shisho-jobs events", retry=RETRY_MILLISECONDS)
        if resume_after is not None:
            for message in await anyio.to_thread.run_sync(catch_up, subscription, resume_after):
                yield message
        while True:
            try:
                live = await asyncio.wait_for(
                    subscription.queue.get(), timeout=max(0.0, due - time.monotonic())
                )
            except TimeoutError:
                live = _SILENCE
            if time.monotonic() >= due:
                # Busy or idle, the reader is checked once per keep-alive interval.
                if still_allowed is not None and not await still_allowed():
                    return
                due = time.monotonic() + keepalive_interval
                if live is _SILENCE:
                    yield ServerSentEventMessage(comment="keep-alive")
                    continue
            if live is _SILENCE:
                continue
            if live is None:
                return
            yield message_of(live, subscription)
    finally:
        hub.unsubscribe(subscription)
