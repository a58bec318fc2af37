"""Worker benchmark: pickup latency and no-op throughput, on SQLite and PostgreSQL.

- Pickup latency (enqueue to ``in_progress``, p50/p95): a worker in this process
  (in-process wake-up) and a ``shisho-jobs worker`` process (LISTEN/NOTIFY on
  PostgreSQL, ``PRAGMA data_version`` watch on SQLite). Measured from the jobs'
  own ``created_at`` and ``started_at``; enqueues come at random moments.
- Throughput of no-op jobs for one worker process (concurrency 1), beside
  Procrastinate on the same PostgreSQL and Huey on SQLite, same machine, same run:
  the queue is filled first (not measured, for every queue alike), then the worker
  process started; the rate is counted from the first job done to the queue being
  empty, so start-up and enqueueing are left out of every figure. See
  ``THROUGHPUT_COVERS`` (also written to the results) for what one job costs each.

Prints the figures and writes bench/results/worker.json. Needs the ``bench`` extra
(procrastinate, huey, psutil) and the PostgreSQL server of the tests.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shisho_jobs import Database, JobService, Worker, get_plugin_manager
from shisho_jobs.schema import Base, JobRow, owned_tables, utcnow

HERE = Path(__file__).resolve().parent
PLUGINS = HERE / "plugins"
RESULTS = HERE / "results" / "worker.json"
BIN = Path(sys.executable).parent
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LATENCY_SAMPLES = 40
THROUGHPUT_JOBS = 2000
THROUGHPUT_ROUNDS = 2  # alternating ours and the peer's; the best of each is reported
THROUGHPUT_COVERS = {
    "shisho_jobs": (
        "per job, one write transaction (SQLite: WAL, synchronous=NORMAL): the outcome of the"
        " previous job (fenced UPDATE ... RETURNING) and the claim of the next (UPDATE ..."
        " RETURNING), each with its job_events outbox row (PostgreSQL: advisory lock + NOTIFY);"
        " job_started/job_finished hooks; the job keeps its row and status history"
    ),
    "huey": (
        "SqliteHuey defaults (WAL, synchronous=OFF), consumer -w 1 -k thread: per task, a"
        " SELECT of the oldest task and its DELETE; no status, no history, no result stored"
        " for a None return; counted as dequeued"
    ),
    "procrastinate": (
        "psycopg connector, worker --concurrency 1: per job, a fetch (procrastinate_fetch_job)"
        " and a finish (procrastinate_finish_job) transaction, with its own event rows"
    ),
}
SAMPLE_STEP = 0.005  # seconds between looks while waiting for a job or a count
STARTUP_TIMEOUT = 30.0  # seconds a worker process may take to start
DRAIN_TIMEOUT = 300.0  # seconds a worker may take to drain the queue

sys.path.insert(0, str(PLUGINS))
import shisho_bench_noop  # noqa: E402  (found through PLUGINS, like --plugin does)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _latency_figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(samples, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(samples, 0.95) * 1000, 1),
        "mean_ms": round(statistics.fmean(samples) * 1000, 1),
        "samples": len(samples),
    }


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(SAMPLE_STEP)


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[sa.URL]:
    """A database of its own on the test server, dropped afterwards."""
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"shisho_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def sqlite_fresh(folder: Path, name: str) -> str:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
    Base.metadata.create_all(engine, tables=owned_tables())
    engine.dispose()
    return url


def postgres_fresh(url: sa.URL, name: str) -> sa.URL:
    """A new schema in the bench database, first on the search path of the returned URL."""
    schema = "b_" + "".join(ch for ch in name if ch.isalnum())
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sa.create_engine(scoped)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
    Base.metadata.create_all(engine, tables=owned_tables())
    engine.dispose()
    return scoped


def _service(database: Database) -> JobService:
    manager = get_plugin_manager(load_entry_points=False, plugins=[shisho_bench_noop])
    return JobService(database, plugin_manager=manager)


# --- worker processes --------------------------------------------------------------------------


@contextmanager
def shisho_worker_process(url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(os.environ, PYTHONPATH=str(PLUGINS), SHISHO_JOB_RETENTION_DAYS="off")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(BIN / "shisho-jobs"),
                "worker",
                "--database-url",
                url,
                "--plugin",
                "shisho_bench_noop",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: "started (concurrency" in log.read_text(), STARTUP_TIMEOUT, "the worker")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


# --- pickup latency ----------------------------------------------------------------------------


def pickup_latency(service: JobService, samples: int, *, spread: float) -> dict[str, float]:
    """Enqueue ``samples`` jobs one by one at random moments; enqueue-to-claim times."""
    latencies: list[float] = []
    for _ in range(samples):
        time.sleep(random.uniform(0, spread))
        job = service.create_job(shisho_bench_noop.NOOP_TYPE)

        def started(job_id: int = job.id) -> bool:
            return service.retrieve_job(job_id).started_at is not None

        _wait(started, 30, "a pickup")
        claimed = service.retrieve_job(job.id)
        assert claimed.started_at is not None
        latencies.append((claimed.started_at - job.created_at).total_seconds())
    return _latency_figures(latencies)


def latency_same_process(url: str | sa.URL) -> dict[str, float]:
    database = Database(url)
    service = _service(database)
    worker = Worker(database, plugin_manager=service.plugin_manager, retention_days=None)
    worker.start()
    try:
        return pickup_latency(service, LATENCY_SAMPLES, spread=0.05)
    finally:
        worker.stop(timeout=5)
        database.dispose()


def latency_separate_process(url: str, log: Path, samples: int) -> dict[str, float]:
    database = Database(url)
    service = _service(database)
    try:
        with shisho_worker_process(url, log):
            return pickup_latency(service, samples, spread=0.2)
    finally:
        database.dispose()


# --- throughput --------------------------------------------------------------------------------


def drain_rate(
    remaining: Callable[[], int], total: int, worker: AbstractContextManager[Any]
) -> float:
    """Jobs per second from the first job done until none is left."""
    with worker:
        _wait(lambda: remaining() < total, STARTUP_TIMEOUT, "the first job to finish")
        first_at, first_left = time.perf_counter(), remaining()
        _wait(lambda: remaining() == 0, DRAIN_TIMEOUT, "the queue to drain")
        return round(first_left / (time.perf_counter() - first_at), 1)


def _counter(url: str, sql: str) -> tuple[Callable[[], int], sa.Engine]:
    engine = sa.create_engine(url)
    query = sa.text(sql)

    def remaining() -> int:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    return remaining, engine


def fill_shisho_queue(url: str, count: int) -> None:
    # One multi-row insert: filling the queue is not what is measured.
    now = utcnow()
    row = {
        "created_at": now,
        "updated_at": now,
        "type": shisho_bench_noop.NOOP_TYPE,
        "status": "pending",
        "data": "{}",
        "progress": 0,
        "attempt": 0,
        "crash_count": 0,
        "cancel_requested": False,
    }
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(JobRow.__table__), [row] * count)
    engine.dispose()


def shisho_throughput(url: str, log: Path) -> float:
    fill_shisho_queue(url, THROUGHPUT_JOBS)
    remaining, engine = _counter(
        url, "SELECT count(*) FROM jobs WHERE status IN ('pending', 'in_progress')"
    )
    try:
        return drain_rate(remaining, THROUGHPUT_JOBS, shisho_worker_process(url, log))
    finally:
        engine.dispose()


@contextmanager
def _peer_process(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=dict(os.environ, PYTHONPATH=str(PLUGINS), **env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def procrastinate_throughput(url: sa.URL, log: Path) -> float:
    """Procrastinate (psycopg connector, LISTEN/NOTIFY, concurrency 1) on the same server.

    Its schema is applied on the first call; later calls reuse it (the queue is empty).
    """
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    os.environ["BENCH_PROCRASTINATE_DSN"] = dsn  # read when procrastinate_app is imported
    # The app reads BENCH_PROCRASTINATE_DSN when it is imported, so it is imported here.
    import procrastinate_app  # noqa: PLC0415

    with procrastinate_app.app.open():
        sa_url = url.render_as_string(hide_password=False)
        if not sa.inspect(sa.create_engine(sa_url)).has_table("procrastinate_jobs"):
            procrastinate_app.app.schema_manager.apply_schema()
        procrastinate_app.noop.batch_defer(*([{}] * THROUGHPUT_JOBS))
    remaining, engine = _counter(
        sa_url, "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
    )
    command = [
        str(BIN / "procrastinate"),
        "--app",
        "procrastinate_app.app",
        "worker",
        "--concurrency",
        "1",
    ]
    try:
        return drain_rate(
            remaining,
            THROUGHPUT_JOBS,
            _peer_process(command, {"BENCH_PROCRASTINATE_DSN": dsn}, log),
        )
    finally:
        engine.dispose()


def huey_throughput(folder: Path, log: Path) -> float:
    """Huey with SQLite storage, one worker thread (its default consumer).

    The same queue file serves every call (it is empty after each).
    """
    huey_file = folder / "huey.db"
    os.environ["BENCH_HUEY_FILE"] = str(huey_file)
    # The app reads BENCH_HUEY_FILE when it is imported, so it is imported here.
    import huey_app  # noqa: PLC0415

    for _ in range(THROUGHPUT_JOBS):
        huey_app.noop()
    command = [str(BIN / "huey_consumer"), "huey_app.huey", "-w", "1", "-k", "thread", "-q"]

    def remaining() -> int:
        return int(huey_app.huey.pending_count())

    return drain_rate(
        remaining, THROUGHPUT_JOBS, _peer_process(command, {"BENCH_HUEY_FILE": str(huey_file)}, log)
    )


# --- main ----------------------------------------------------------------------------------------


def _throughput_rounds(
    label: str, ours: Callable[[int], float], peer_name: str, peer: Callable[[int], float]
) -> dict[str, Any]:
    """Alternate our worker and the peer; the best round of each counts (least disturbed)."""
    rates: dict[str, list[float]] = {"shisho_jobs": [], peer_name: []}
    for round_number in range(THROUGHPUT_ROUNDS):
        for name, run in (("shisho_jobs", ours), (peer_name, peer)):
            rate = run(round_number)
            rates[name].append(rate)
            print(f"{label} throughput, {name}, round {round_number + 1}: {rate} jobs/s")
    return {name: {"best": max(values), "rounds": values} for name, values in rates.items()}


def main() -> None:
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    folder = Path(tempfile.mkdtemp(prefix="shisho-bench-"))
    try:
        with postgres_database() as pg_url:
            for engine_name, fresh in (
                ("sqlite", lambda name: sqlite_fresh(folder, name)),
                (
                    "postgresql",
                    lambda name: postgres_fresh(pg_url, name).render_as_string(hide_password=False),
                ),
            ):
                figures: dict[str, Any] = {}
                figures["pickup_same_process"] = latency_same_process(fresh("latency1.db"))
                print(f"{engine_name} pickup, same process: {figures['pickup_same_process']}")
                figures["pickup_separate_process"] = latency_separate_process(
                    fresh("latency2.db"), folder / f"{engine_name}-latency.log", LATENCY_SAMPLES
                )
                print(
                    f"{engine_name} pickup, separate process: {figures['pickup_separate_process']}"
                )

                def ours(round_number: int, fresh: Callable[[str], str] = fresh) -> float:
                    url = fresh(f"throughput{round_number}.db")
                    return shisho_throughput(url, folder / f"tp{round_number}.log")

                if engine_name == "sqlite":
                    figures["throughput_jobs_per_s"] = _throughput_rounds(
                        engine_name,
                        ours,
                        "huey",
                        lambda n: huey_throughput(folder, folder / f"huey{n}.log"),
                    )
                else:
                    figures["throughput_jobs_per_s"] = _throughput_rounds(
                        engine_name,
                        ours,
                        "procrastinate",
                        lambda n: procrastinate_throughput(pg_url, folder / f"pr{n}.log"),
                    )
                results[engine_name] = figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results["jobs_per_throughput_run"] = THROUGHPUT_JOBS
    results["throughput_covers"] = THROUGHPUT_COVERS
    results["measured_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    for engine_name in ("sqlite", "postgresql"):
        figures = results[engine_name]
        best = {name: value["best"] for name, value in figures["throughput_jobs_per_s"].items()}
        print(
            f"{engine_name}: pickup p50/p95 same process "
            f"{figures['pickup_same_process']['p50_ms']}/{figures['pickup_same_process']['p95_ms']}"
            f" ms, separate process {figures['pickup_separate_process']['p50_ms']}/"
            f"{figures['pickup_separate_process']['p95_ms']} ms; throughput (best) {best} jobs/s"
        )


if __name__ == "__main__":
    main()
