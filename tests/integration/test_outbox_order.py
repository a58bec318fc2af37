"""PostgreSQL writers draw event ids without a lock, so two transactions may commit out of id
order. A reader following new events must still receive every event once, in id order: a
live stream that skipped one would leave a button showing a state that is no longer true."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from polling import wait_until
from schema_support import create_schema
from shisho_jobs import Database, Job, JobService
from shisho_jobs.errors import OutboxNotSettled, OutboxSequenceCached
from shisho_jobs.outbox import EVENT_PROGRESS, Outbox, record_event
from shisho_jobs.outbox_horizon import Horizon

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_database(pg_schema_url: sa.URL) -> Iterator[Database]:
    database = Database(pg_schema_url)
    create_schema(database)
    yield database
    database.dispose()


@pytest.fixture
def job(pg_database: Database) -> Job:
    return JobService(pg_database).create_job("export", library_id=1)


def _begin(database: Database) -> Connection:
    connection = database.engine.connect()
    connection.begin()
    return connection


def _drawn_id(connection: Connection, job: Job) -> int:
    record_event(connection, job, EVENT_PROGRESS)
    return int(
        connection.scalar(sa.text("SELECT currval(pg_get_serial_sequence('job_events', 'id'))"))
    )


def _read_until_settled(outbox: Outbox, after_id: int) -> list[int]:
    """Every id a follower receives from ``after_id`` until nothing is held back."""
    received: list[int] = []

    def settled() -> bool:
        read = outbox.new_events_after(received[-1] if received else after_id, limit=100)
        received.extend(event.id for event in read.events)
        return not read.held_back

    wait_until(settled, timeout=10, what="the outbox's horizon passes both writers")
    return received


@pytest.mark.parametrize("older_transaction", ["draws first", "draws second"])
def test_a_follower_never_skips_an_event_that_commits_after_a_higher_one(
    pg_database: Database, job: Job, older_transaction: str
) -> None:
    outbox = Outbox(pg_database)
    start = outbox.latest_id()
    older, younger = _begin(pg_database), _begin(pg_database)
    try:
        # Which of the two transactions took its transaction id first is what a horizon
        # built on transaction ids alone gets wrong; both orders must hold.
        older.execute(sa.text("SELECT pg_current_xact_id()"))
        younger.execute(sa.text("SELECT pg_current_xact_id()"))
        first, second = (older, younger) if older_transaction == "draws first" else (younger, older)
        low_id = _drawn_id(first, job)
        high_id = _drawn_id(second, job)
        second.commit()  # the higher id is visible while the lower one is still running

        naive = Outbox(pg_database).events_after(start, limit=100)
        assert [event.id for event in naive] == [high_id]  # what an id-only cursor would take
        held = outbox.new_events_after(start, limit=100)
        assert held.events == [] and held.held_back

        first.commit()
        assert _read_until_settled(outbox, start) == [low_id, high_id]
    finally:
        older.close()
        younger.close()


def test_a_rolled_back_event_holds_nobody_back(pg_database: Database, job: Job) -> None:
    outbox = Outbox(pg_database)
    start = outbox.latest_id()
    abandoned, kept = _begin(pg_database), _begin(pg_database)
    try:
        _drawn_id(abandoned, job)
        kept_id = _drawn_id(kept, job)
        kept.commit()
        abandoned.rollback()
        assert _read_until_settled(outbox, start) == [kept_id]
        assert outbox.latest_id() >= kept_id
    finally:
        abandoned.close()
        kept.close()


def test_a_start_id_waits_for_running_writers_and_says_so_when_they_stay_open(
    pg_database: Database, job: Job
) -> None:
    open_writer = _begin(pg_database)
    try:
        drawn = _drawn_id(open_writer, job)
        with (
            pg_database.read_connection() as connection,
            pytest.raises(OutboxNotSettled, match=r"open for over 0\.2 s"),
        ):
            Horizon().settled_latest(connection, timeout=0.2)
        open_writer.commit()
        # Every event up to a start id is readable: a resume replaying up to it misses none.
        start = Outbox(pg_database).latest_id()
        assert start >= drawn
        replayed = Outbox(pg_database).events_after(0, limit=100, up_to=start)
        assert drawn in [event.id for event in replayed]
    finally:
        open_writer.close()


def test_a_cached_id_sequence_is_refused_with_the_fix(pg_database: Database) -> None:
    with pg_database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER SEQUENCE job_events_id_seq CACHE 20")
    with pytest.raises(OutboxSequenceCached, match="ALTER SEQUENCE job_events_id_seq CACHE 1"):
        Outbox(pg_database).latest_id()
