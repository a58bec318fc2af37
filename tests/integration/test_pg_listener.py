"""The shared PostgreSQL listener: every subscriber hears each committed job event, and a
lost connection comes back on its own."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from polling import wait_until
from schema_support import create_schema
from shisho_jobs import Database, JobService
from shisho_jobs.outbox import EVENT_CREATED, notify_payload
from shisho_jobs.pg_listener import PgListener

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_database(pg_schema_url: sa.URL) -> Database:
    database = Database(pg_schema_url)
    create_schema(database)
    return database


class Heard:
    """What one subscriber was called with, in order."""

    def __init__(self) -> None:
        self.payloads: list[str | None] = []
        self.changed = threading.Event()

    def __call__(self, payload: str | None) -> None:
        self.payloads.append(payload)
        self.changed.set()


def test_every_subscriber_hears_a_job_created_anywhere(pg_database: Database) -> None:
    listener = PgListener(pg_database)
    first, second = Heard(), Heard()
    listener.subscribe(first)
    remove_second = listener.subscribe(second)
    listener.start()
    try:
        # Each subscriber is told once that the connection is up (look at the database now).
        wait_until(lambda: None in first.payloads, timeout=10, what="the LISTEN is up")
        job = JobService(pg_database).create_job("export")
        expected = notify_payload(EVENT_CREATED, job.id)

        wait_until(lambda: expected in first.payloads, timeout=10, what="first hears it")
        wait_until(lambda: expected in second.payloads, timeout=10, what="second hears it")

        remove_second()
        later = JobService(pg_database).create_job("export")
        wait_until(
            lambda: notify_payload(EVENT_CREATED, later.id) in first.payloads,
            timeout=10,
            what="first hears the second job",
        )
        assert notify_payload(EVENT_CREATED, later.id) not in second.payloads
    finally:
        listener.stop()
        pg_database.dispose()


def test_a_lost_connection_is_reopened_and_announced(pg_database: Database) -> None:
    listener = PgListener(pg_database, reconnect_delay=0.05)
    heard = Heard()
    listener.subscribe(heard)
    listener.start()
    try:
        wait_until(lambda: heard.payloads.count(None) == 1, timeout=10, what="first LISTEN")
        with pg_database.engine.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE query = 'LISTEN shisho_jobs' AND datname = current_database()"
                )
            )
        wait_until(lambda: heard.payloads.count(None) >= 2, timeout=10, what="LISTEN again")

        job = JobService(pg_database).create_job("export")
        wait_until(
            lambda: notify_payload(EVENT_CREATED, job.id) in heard.payloads,
            timeout=10,
            what="a job created after the reconnect is heard",
        )
    finally:
        listener.stop()
        pg_database.dispose()


def test_a_sqlite_database_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        PgListener(Database(sqlite_url))
