"""The outbox lock's own ceiling: job-event transactions per second with 1, 2 and 4 writers.

Every job change on PostgreSQL commits one transaction holding one ``job_events`` insert,
and that insert takes the cluster-wide events lock (``pg_advisory_xact_lock``) until
commit, so readers see ids in commit order. This measures exactly that transaction,
without the worker's Python around it: N connections (each its own thread; psycopg
releases the GIL while it waits) commit ``BEGIN; <the outbox insert>; COMMIT`` for a few
seconds, once with the statement as shipped and once with the lock left out. If the
first stays flat as N grows while the second climbs, the lock is the bound.

Prints the figures and writes bench/results/outbox_lock.json. Needs the tests'
PostgreSQL server (``SHISHO_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from shisho_jobs import outbox
from shisho_jobs.outbox import EVENT_INSERT_SQL, NOTIFY_CHANNEL
from shisho_jobs.schema import Base, owned_tables

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "outbox_lock.json"
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECONDS = 3.0  # per measurement
_LOCKED = EVENT_INSERT_SQL["postgresql"]
# The same insert without the lock's CTE: what the statement would cost unserialised.
_UNLOCKED = (
    "INSERT INTO job_events (created_at, job_id, library_id, event, job_json) "
    "SELECT statement_timestamp(), %s::integer, %s::integer, %s::varchar, %s::text "
    "RETURNING id, pg_notify(%s::text, %s::text)"
)
_JOB_JSON = json.dumps({"id": 1, "status": "in_progress", "progress": 50})


def _params(locked: bool) -> tuple[Any, ...]:
    row = (1, None, "job.progress", _JOB_JSON, NOTIFY_CHANNEL, "job.progress 1")
    if not locked:
        return row
    # The lock key comes first in the shipped statement (see outbox.event_insert_params).
    return (outbox._EVENTS_LOCK_KEY, *row)


def _rate(conninfo: str, writers: int, locked: bool) -> float:
    sql, params = (_LOCKED if locked else _UNLOCKED), _params(locked)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,2,4", help="writer counts (default 1,2,4)")
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
        for writers in counts:
            locked, unlocked = _rate(conninfo, writers, True), _rate(conninfo, writers, False)
            results[f"writers_{writers}"] = {"with_lock": locked, "without_lock": unlocked}
            print(f"{writers} writers: {locked} tx/s with the events lock, {unlocked} without")
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
