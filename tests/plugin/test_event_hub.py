"""The shared watcher: one outbox read per wake-up serves every open stream."""

from __future__ import annotations

import asyncio

import anyio.to_thread

from shisho_jobs import Database, JobService
from shisho_jobs.visibility import Visibility
from shisho_resync_plugin.events import EventHub

STREAMS = 200


def test_one_outbox_query_serves_every_stream(database: Database, service: JobService) -> None:
    async def scenario() -> tuple[int, list[int], list[int]]:
        # A poll interval that never comes round: only the commit's wake-up reads the outbox.
        hub = EventHub(database, poll_interval=3600, fallback_interval=3600)
        await hub.start()
        try:
            everyone = [await hub.subscribe(Visibility()) for _ in range(STREAMS)]
            library2 = await hub.subscribe(Visibility(frozenset({2})))
            job = await anyio.to_thread.run_sync(lambda: service.create_job("export", library_id=1))
            received = [(await asyncio.wait_for(s.queue.get(), 10)) for s in everyone]
            return (
                hub.outbox_queries,
                [r.id for r in received if r],
                [
                    library2.queue.qsize(),
                    job.id,
                ],
            )
        finally:
            await hub.stop()

    queries, received, (hidden_queued, _job_id) = asyncio.run(scenario())
    # One read per wake-up (the commit; on PostgreSQL also its notification and the LISTEN
    # connection's catch-up read, when they do not coincide), never one per stream.
    assert 1 <= queries <= 3
    assert len(received) == STREAMS and len(set(received)) == 1
    assert hidden_queued == 0  # a user of library 2 only never sees library 1's job


def test_subscriptions_whose_stream_never_started_are_dropped(database: Database) -> None:
    async def scenario() -> tuple[int, int]:
        hub = EventHub(database, poll_interval=3600, fallback_interval=3600)
        await hub.start()
        try:
            claimed = await hub.subscribe(Visibility())
            claimed.claimed = True
            await hub.subscribe(Visibility())  # its client left before the stream began
            before = hub.subscriber_count
            hub.drop_unclaimed(older_than=0)
            return before, hub.subscriber_count
        finally:
            await hub.stop()

    assert asyncio.run(scenario()) == (2, 1)
