"""The shared watcher: one outbox read per wake-up serves every open stream."""

from __future__ import annotations

import asyncio

import anyio.to_thread
import pytest
import sqlalchemy as sa

from schema_support import create_schema
from shisho_jobs import Database, JobService
from shisho_jobs.outbox import EVENT_PROGRESS, Outbox, record_event
from shisho_jobs.visibility import Visibility
from shisho_resync_plugin.events import EventHub, Subscription
from shisho_resync_plugin.stream import missed_events

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
                hub.outbox_queries - hub.held_back_reads,
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
    # connection's catch-up read, when they do not coincide, and a second look when a read
    # found events held back by a transaction then running), never one per stream.
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


@pytest.mark.postgres
def test_a_stream_gets_events_committed_out_of_id_order_once_each_in_id_order(
    pg_schema_url: sa.URL,
) -> None:
    database = Database(pg_schema_url)
    create_schema(database)
    job = JobService(database).create_job("export", library_id=1)

    async def scenario() -> list[int]:
        hub = EventHub(database, poll_interval=3600, fallback_interval=3600)
        await hub.start()
        try:
            stream = await hub.subscribe(Visibility())
            with database.engine.connect() as slow, database.engine.connect() as quick:
                slow.begin()
                record_event(slow, job, EVENT_PROGRESS)  # draws the lower id
                quick.begin()
                record_event(quick, job, EVENT_PROGRESS)
                quick.commit()  # its notification wakes the hub while the lower id is open
                await asyncio.sleep(0.2)
                assert stream.queue.empty()  # taking the higher id now would lose the lower
                slow.commit()
            received = [await asyncio.wait_for(stream.queue.get(), 10) for _ in range(2)]
            await asyncio.sleep(0.2)
            assert stream.queue.empty()
            return [event.id for event in received if event]
        finally:
            await hub.stop()

    try:
        received = asyncio.run(scenario())
    finally:
        database.dispose()
    assert len(received) == 2 and received == sorted(received)


def test_a_resume_from_before_a_pruned_gap_gets_a_snapshot_even_from_a_lagging_start(
    database: Database, service: JobService
) -> None:
    first = service.create_job("export", library_id=1)
    service.create_job("export", library_id=2)
    with database.write() as session:  # retention pruned the first job's events
        session.execute(sa.text("DELETE FROM job_events WHERE job_id = :id"), {"id": first.id})
    # A hub whose cursor had not reached the new events yet starts a stream at 0: the
    # client that resumes from 0 must still learn that events were lost, not replay nothing.
    lagging = Subscription(visibility=Visibility(), start_id=0)
    assert missed_events(Outbox(database), lagging, 0, replay_limit=100) is None
