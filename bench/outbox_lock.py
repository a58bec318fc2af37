"""The outbox's ceiling: job-event transactions per second with 1, 2 and 4 writers.

Every job change on PostgreSQL commits one transaction holding one ``job_events`` insert.
Until this round that insert took one cluster-wide advisory lock held until commit, so that
readers saw ids in commit order; now writers take no lock and readers read only up to the
settled id (``shisho_jobs.outbox_horizon``). This measures exactly that transaction, without
the worker's Python around it: N connections (each its own thread; psycopg releases the GIL
while it waits) commit ``BEGIN; <the outbox insert>; COMMIT`` for a few seconds, in turn
with the statement as shipped and with the previous, locked one.

While the writers run, one follower reads new events every 5 ms, as the event hub does
(by id alone beside the locked statement; ``Outbox.new_events_after`` beside the shipped
one), and must receive every committed event exactly once, in id order; the figures say how
many of the lock-free follower's reads were held back.

Prints the figures and writes bench/results/outbox_lock.json. Needs the tests'
PostgreSQL server (``SHISHO_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from shisho_jobs import Database
from shisho_jobs.outbox import EVENT_INSERT_SQL, NOTIFY_CHANNEL, LiveRead, Outbox
from shisho_jobs.schema import Base, owned_tables

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "outbox_lock.json"
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECONDS = 3.0  # per measurement
_SHIPPED = EVENT_INSERT_SQL["postgresql"]
# The statement as it was before: every insert serialised on one lock held to commit.
_LOCKED = (
    "WITH events_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s::integer, 0)) "
    "INSERT INTO job_events (created_at, job_id, library_id, event, job_json) "
    "SELECT statement_timestamp(), %s::integer, %s::integer, %s::varchar, %s::text "
    "FROM events_lock RETURNING id, pg_notify(%s::text, %s::text)"
)
_LOCK_KEY = 1234
_JOB_JSON = json.dumps({"id": 1, "status": "in_progress", "progress": 50})
_ROW = (1, None, "job.progress", _JOB_JSON, NOTIFY_CHANNEL, "job.progress 1")


@dataclass
class Follower:
    """Reads new events every 5 ms, as the event hub would, until told to stop."""

    read: Callable[[int], LiveRead]
    after_id: int
    received: list[int] = field(default_factory=list)
    reads: int = 0
    held_back: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while True:
            stopping = self.stop.is_set()
            read = self.read(self.received[-1] if self.received else self.after_id)
            self.reads += 1
            self.held_back += read.held_back
            self.received.extend(event.id for event in read.events)
            if stopping and not read.held_back and not read.events:
                return
            time.sleep(0.005)


def _rate(conninfo: str, writers: int, sql: str, params: tuple[Any, ...]) -> float:
    counts = [0] * writers
    start, stop = threading.Barrier(writers + 1), threading.Event()

    def write(index: int) -> None:
        with psycopg.connect(conninfo) as connection:
            start.wait()
            while not stop.is_set():
                with connection.transaction():
                    connection.execute(sql, params)
                counts[index] += 1

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    return round(sum(counts) / (time.perf_counter() - began), 1)


def _followed_rate(
    conninfo: str, writers: int, database: Database, *, locked: bool
) -> tuple[float, Follower]:
    """One statement's rate with a follower reading along, and a check of what it received.

    The locked statement's follower reads by id alone (what the lock made safe); the shipped
    one's reads up to the settled id.
    """
    outbox = Outbox(database)

    def read_by_id(after_id: int) -> LiveRead:
        return LiveRead(outbox.events_after(after_id, limit=1000), held_back=False)

    def read_settled(after_id: int) -> LiveRead:
        return outbox.new_events_after(after_id, limit=1000)

    follower = Follower(read_by_id if locked else read_settled, after_id=outbox.latest_id())
    thread = threading.Thread(target=follower.run)
    thread.start()
    if locked:
        rate = _rate(conninfo, writers, _LOCKED, (_LOCK_KEY, *_ROW))
    else:
        rate = _rate(conninfo, writers, _SHIPPED, _ROW)
    follower.stop.set()
    thread.join()
    with database.read_connection() as connection:
        committed = list(
            connection.scalars(
                sa.text("SELECT id FROM job_events WHERE id > :after ORDER BY id"),
                {"after": follower.after_id},
            )
        )
    if follower.received != committed:
        raise SystemExit(
            f"the follower received {len(follower.received)} events, {len(committed)} committed:"
            " an event was skipped, repeated or out of order"
        )
    return rate, follower


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,2,4", help="writer counts (default 1,2,4)")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds per count (3)")
    args = parser.parse_args()
    counts = [int(part) for part in args.writers.split(",")]
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"shisho_bench_lock_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)}
    }
    try:
        url = base.set(database=name)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY)")
        Base.metadata.create_all(engine, tables=owned_tables())
        with engine.begin() as connection:  # the job the events are about
            connection.exec_driver_sql(
                "INSERT INTO jobs (id, created_at, updated_at, type, status, data, progress)"
                " VALUES (1, now(), now(), 'noop', 'in_progress', '{}', 50)"
            )
        engine.dispose()
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        database = Database(url)
        for writers in counts:
            figures: dict[str, list[float]] = {"with_lock": [], "lock_free": [], "held": []}
            for _round in range(args.rounds):  # A/B in turn: the machine's load moves
                locked, _ = _followed_rate(conninfo, writers, database, locked=True)
                shipped, follower = _followed_rate(conninfo, writers, database, locked=False)
                figures["with_lock"].append(locked)
                figures["lock_free"].append(shipped)
                figures["held"].append(100 * follower.held_back / max(1, follower.reads))
            mean = {key: round(statistics.fmean(values), 1) for key, values in figures.items()}
            results[f"writers_{writers}"] = {
                "with_lock": mean["with_lock"],
                "lock_free_as_shipped": mean["lock_free"],
                "follower_reads_held_back_percent": mean["held"],
            }
            print(
                f"{writers} writers: {mean['with_lock']} tx/s with the events lock,"
                f" {mean['lock_free']} lock-free as shipped (mean of {args.rounds});"
                f" every follower got each event once, in order; {mean['held']}% of the"
                " lock-free follower's reads were held back"
            )
        database.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    results["seconds_per_figure"] = SECONDS
    results["measured_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
