"""Start-or-join under contention: 32 threads and 4 processes, on SQLite and PostgreSQL.

Every actor enqueues scans for a shared library, other libraries and globally,
round after round, and finishes jobs in between so that new ones can start.
The check replays the ``job_events`` outbox in id order, which follows cause and effect
on both engines (SQLite serialises writers; on PostgreSQL a change made after seeing
another's commit draws the higher id: a scan created once the previous one finished comes
after that finish), so it sees every moment at which a job became active or finished.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from shisho_jobs import Database, JobService, JobStatus, get_plugin_manager
from shisho_jobs.outbox import EVENT_CREATED, EVENT_STATUS_CHANGED
from shisho_jobs.schema import JobEventRow, JobRow

THREADS = 32
PROCESSES = 4
THREAD_ROUNDS = 12
PROCESS_ROUNDS = 40
HOSTS = 4  # engines shared by the in-process threads, standing in for separate hosts
START_DEADLINE = 60.0  # seconds for the processes to import and connect
# Library 1 is the hot spot; None is a global scan.
SCOPES: tuple[int | None, ...] = (1, 1, 1, 2, 3, None)


@dataclass
class Tally:
    """What one actor saw."""

    created: int = 0
    joined: int = 0
    errors: list[str] = field(default_factory=list)


def _service(url: str) -> JobService:
    return JobService(Database(url), plugin_manager=get_plugin_manager(load_entry_points=False))


def _enqueue_rounds(service: JobService, rounds: int, seed: int, tally: Tally) -> None:
    """Start or join scans; finish some of them so that others can start."""
    rng = random.Random(seed)
    for _ in range(rounds):
        try:
            job, created = service.start_or_join("scan", library_id=rng.choice(SCOPES))
            if created:
                tally.created += 1
                # Leave about half running, so that others run into them.
                if rng.random() < 0.5:
                    continue
            else:
                tally.joined += 1
            # Whoever joined plays the worker that finishes the blocking scan.
            status = JobStatus.COMPLETED if rng.random() < 0.8 else JobStatus.FAILED
            service.update_job(msgspec.structs.replace(job, status=status), columns=["status"])
        except Exception as error:  # every error fails the test, "database is locked" included
            tally.errors.append(f"{type(error).__name__}: {error}")


def _process_actor(url: str, seed: int, barrier: Any, results: Any) -> None:
    """Entry point of a spawned process: one more host enqueueing scans."""
    tally = Tally()
    service = _service(url)
    try:
        barrier.wait(START_DEADLINE)
        _enqueue_rounds(service, PROCESS_ROUNDS, seed, tally)
    finally:
        service.database.dispose()
        results.put(msgspec.json.encode(tally))


def _replay_outbox(database: Database) -> int:
    """Walk the outbox in id order; fail at the first moment the scope rule breaks.

    Returns:
        How many scans became active.
    """
    active: dict[int, int | None] = {}  # job id -> library id, for active scans
    started = 0
    with database.read() as session:
        events = session.execute(
            sa.select(JobEventRow.event, JobEventRow.job_json).order_by(JobEventRow.id)
        ).all()
    for event, job_json in events:
        job = msgspec.json.decode(job_json)
        if job["type"] != "scan":
            continue
        library_id = job.get("library_id")
        if event == EVENT_CREATED and job["status"] in ("pending", "in_progress"):
            conflicting = [
                other
                for other, other_library in active.items()
                if library_id is None or other_library is None or other_library == library_id
            ]
            assert conflicting == [], f"scan {job['id']} started beside active {conflicting}"
            active[job["id"]] = library_id
            started += 1
        elif event == EVENT_STATUS_CHANGED and job["status"] in ("completed", "failed"):
            active.pop(job["id"], None)
    return started


def _active_scans(database: Database) -> list[int | None]:
    with database.read() as session:
        query = sa.select(JobRow.library_id).where(
            JobRow.type == "scan", JobRow.status.in_(["pending", "in_progress"])
        )
        return list(session.scalars(query))


def test_start_or_join_holds_the_scope_rule_across_threads_and_processes(
    database: Database,
) -> None:
    url = database.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_process_actor, args=(url, 1000 + n, barrier, results))
        for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()

    services = [_service(url) for _ in range(HOSTS)]
    tallies = [Tally() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def _thread_actor(index: int) -> None:
        start.wait(START_DEADLINE)
        _enqueue_rounds(services[index % HOSTS], THREAD_ROUNDS, index, tallies[index])

    threads = [threading.Thread(target=_thread_actor, args=(n,)) for n in range(THREADS)]
    try:
        barrier.wait(START_DEADLINE)  # every process is connected: go
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tallies += [
            msgspec.json.decode(results.get(timeout=START_DEADLINE), type=Tally) for _ in processes
        ]
        for process in processes:
            process.join(START_DEADLINE)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        for service in services:
            service.database.dispose()

    assert [process.exitcode for process in processes] == [0] * PROCESSES
    errors = [error for tally in tallies for error in tally.errors]
    assert errors == []
    created = sum(tally.created for tally in tallies)
    joined = sum(tally.joined for tally in tallies)
    assert created > 0
    assert joined > 0, "no contention: the test did not exercise the rule"
    assert _replay_outbox(database) == created

    still_active = _active_scans(database)
    per_scope = Counter(still_active)
    assert all(count == 1 for count in per_scope.values()), per_scope
    assert None not in per_scope or len(still_active) == 1


@pytest.mark.parametrize("scope", [1, None])
def test_simultaneous_clicks_create_one_scan(database: Database, scope: int | None) -> None:
    services = [_service(database.url.render_as_string(hide_password=False)) for _ in range(4)]
    answers: list[tuple[int, bool]] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def _click(index: int) -> None:
        start.wait(START_DEADLINE)
        job, created = services[index % 4].start_or_join("scan", library_id=scope)
        with lock:
            answers.append((job.id, created))

    threads = [threading.Thread(target=_click, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for service in services:
        service.database.dispose()

    assert len(answers) == 16
    assert [created for _, created in answers].count(True) == 1
    assert len({job_id for job_id, _ in answers}) == 1
    assert len(_active_scans(database)) == 1
