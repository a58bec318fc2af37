"""The jobs API under load, at 1,000,000 jobs: the button's status request against a trivial
JSON route of the same app, and 1,000 open event streams on one server process.

The server is the plugin's test host (tests/plugin/plugin_test_host.py) served by uvicorn in
a subprocess (one process, no access log), on a copy of the 1M-job SQLite database that
bench/status_query.py builds (built here the same way when missing). The client is a small
raw-socket asyncio HTTP/1.1 client with keep-alive connections, so it costs far less than
the server and both routes are measured by the same client in the same run.

Figures:
- requests/s, p50 and p99 latency of ``GET /ping`` (trivial) and of
  ``GET /api/jobs?type=scan&library_id_or_global=X&limit=1`` (X cycles through 100 libraries),
  measured in alternating rounds on three servers: the plugin's defaults, a host whose
  ``actor_access`` hook answers from memory (``actor_access_is_fast``), the list cache off;
- with 1, 100 and 1,000 open ``GET /api/jobs/events`` streams while another process changes
  a job 10 times a second: database queries per second of the server process (counted by an
  SQLAlchemy cursor hook), events each stream received, and the server's RSS; then the same
  with 1 and 1,000 streams on PostgreSQL (a fresh database, skipped when unreachable);
- 1,000 open pages when a browser's tabs share one stream (issue 15): the server sees one
  stream per browser, so 1,000 pages in browsers of ``--tabs-per-browser`` tabs (20) are
  ``ceil(1000 / 20)`` = 50 streams, measured like the levels above. A page's cost to the
  server is its browser's stream divided among the browser's tabs; this is that cost at scale,
  not a browser measurement (e2e/test_many_tabs.py shows that the tabs do share one stream).

Writes bench/results/api.json.

Usage: python bench/api.py [--rows N] [--seconds S] [--connections C] [--streams N ...]
                           [--pages N] [--tabs-per-browser T]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar import Litestar, get

# The plugin's test host and the polling helper live in tests/ (the server side of this
# script is the test host; see bench_app).
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests" / "plugin"))

from plugin_test_host import make_app

import status_query
from polling import wait_until
from shisho_jobs import Database, migrate
from shisho_jobs.schema import owned_tables

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
DATA_DIR = ROOT / "data"
RESULTS = ROOT / "results" / "api.json"
DEFAULT_ROWS = 1_000_000
LIBRARIES = 100
USER_HEADER = "x-test-user"
STATUS_PATH = "/api/jobs?type=scan&library_id_or_global={library}&limit=1"
WRITES_PER_SECOND = 10
STREAM_WINDOW = 10.0  # seconds of counting per stream level
ROUNDS = 4  # alternating rounds per comparison
# Plugin configurations compared: its defaults, a host whose actor_access hook answers from
# memory (as the reference host's does), and the list cache turned off.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("defaults", {}),
    ("actor_access_is_fast", {"actor_access_is_fast": True}),
    ("list_cache_off", {"list_cache_seconds": 0}),
]
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DATABASE = "shisho_bench_api"


# --- the server side (imported by uvicorn in the server process) ------------------------------


def bench_app() -> Litestar:
    """The plugin's test host plus ``GET /bench/stats`` (database queries so far, RSS, streams).

    Reads ``SHISHO_DATABASE_URL``. Counts every statement the process sends to the database.
    """
    database = Database(os.environ["SHISHO_DATABASE_URL"])
    queries = {"count": 0}

    @sa.event.listens_for(database.engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        queries["count"] += 1

    config = json.loads(os.environ.get("SHISHO_BENCH_CONFIG", "{}"))
    # The benchmark opens up to 1,000 streams as one user; the per-user limit would refuse it.
    config.setdefault("max_streams_per_user", 100_000)
    app, plugin = make_app(database, **config)

    @get("/bench/stats", sync_to_thread=False)
    def stats() -> dict[str, int]:
        return {
            "queries": queries["count"],
            "rss_kb": _rss_kb(os.getpid()),
            "streams": plugin.runtime.hub.subscriber_count,
        }

    app.register(stats)
    return app


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


# --- the database ------------------------------------------------------------------------------


def _database(rows: int) -> Path:
    """A fresh copy of a 1M-job SQLite database built by bench/status_query.py's generator.

    Reuses status_query.py's file when it has the current schema, else builds one of its own.
    """
    shared = DATA_DIR / f"status_ours_{rows}.db"
    source = shared if _usable(shared, rows) else DATA_DIR / f"api_source_{rows}.db"
    if not _usable(source, rows):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        building = source.with_suffix(".building")
        building.unlink(missing_ok=True)
        print(f"building {source.name} ({rows:,} jobs) ...", flush=True)
        status_query._fill(f"sqlite:///{building}", "heads", rows, ours=True)
        building.rename(source)
    copy = DATA_DIR / f"api_{rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, copy)
    return copy


def _usable(path: Path, rows: int) -> bool:
    """Whether ``path`` holds ``rows`` jobs and every table of the current schema."""
    if not path.exists():
        return False
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        tables = set(sa.inspect(engine).get_table_names())
        if not {table.name for table in owned_tables()} <= tables:
            return False
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == rows
    finally:
        engine.dispose()


# --- a tiny HTTP/1.1 client --------------------------------------------------------------------


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{USER_HEADER}: writer\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length)
    return status, body


@dataclass
class _Samples:
    """Latencies (ms) and busy time of one route, over one or more rounds."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "errors": self.errors,
            "requests_per_second": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
        }


async def _load(
    port: int, paths: list[str], seconds: float, connections: int, samples: _Samples
) -> None:
    """Keep ``connections`` keep-alive connections busy for ``seconds``, adding to ``samples``."""
    stop_at = time.perf_counter() + seconds

    async def connection(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = index
        try:
            while time.perf_counter() < stop_at:
                path = paths[n % len(paths)]
                n += connections
                started = time.perf_counter()
                status, body = await _request(reader, writer, path)
                samples.latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    samples.errors += 1
                    if samples.errors <= 3:
                        print(f"  ! {path} answered {status}: {body[:300]!r}", flush=True)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(connections)))
    samples.seconds += time.perf_counter() - began


async def _compare(
    port: int, status_paths: list[str], seconds: float, connections: int
) -> dict[str, Any]:
    """The trivial route against the status request, in alternating rounds (so both see the
    same background load of this shared machine), after a warm-up."""
    await _load(port, ["/ping", *status_paths], 2.0, connections, _Samples())
    trivial, status = _Samples(), _Samples()
    for round_number in range(ROUNDS):
        pair = [("/ping", trivial), ("status", status)]
        for name, samples in pair if round_number % 2 == 0 else reversed(pair):
            paths = ["/ping"] if name == "/ping" else status_paths
            await _load(port, paths, seconds / ROUNDS, connections, samples)
    result = {"trivial_route": trivial.summary(), "status_request": status.summary()}
    result["status_to_trivial_throughput"] = round(
        result["status_request"]["requests_per_second"]
        / result["trivial_route"]["requests_per_second"],
        3,
    )
    return result


def _print_comparison(title: str, result: dict[str, Any]) -> None:
    print(title)
    for name, key in (("trivial /ping", "trivial_route"), ("button status", "status_request")):
        figures = result[key]
        print(
            f"  {name:<14} {figures['requests_per_second']:8.1f} req/s  "
            f"p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms  "
            f"errors {figures['errors']}"
        )
    print(f"  status / trivial throughput: {result['status_to_trivial_throughput']:.2f}")


async def _stats(port: int) -> dict[str, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, body = await _request(reader, writer, "/bench/stats")
        assert status == 200, body
        return dict(json.loads(body))
    finally:
        writer.close()


class _Stream:
    """One open event stream; counts the job events it receives."""

    def __init__(self) -> None:
        self.events = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET /api/jobs/events HTTP/1.1\r\nHost: b\r\n{USER_HEADER}: writer\r\n\r\n"
        writer.write(request.encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            assert b" 200 " in head.split(b"\r\n", 1)[0], head
            while chunk := await reader.read(65536):
                self.events += chunk.count(b"event: job.")
        finally:
            writer.close()


async def _streams(port: int, levels: list[int], database_url: str) -> list[dict[str, Any]]:
    """Queries/s and RSS with ``levels`` open streams while another process changes a job."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, database_url, str(WRITES_PER_SECOND)],
        stdout=subprocess.DEVNULL,
    )
    streams: list[_Stream] = []
    results = []
    try:
        for level in levels:
            while len(streams) < level:
                stream = _Stream()
                stream.task = asyncio.create_task(stream.run(port))
                streams.append(stream)
            deadline = time.monotonic() + 60
            while (await _stats(port))["streams"] < level:
                assert time.monotonic() < deadline, "streams did not open"
                await asyncio.sleep(0.1)
            for stream in streams:
                stream.events = 0
            before = await _stats(port)
            started = time.perf_counter()
            await asyncio.sleep(STREAM_WINDOW)
            after = await _stats(port)
            elapsed = time.perf_counter() - started
            received = [stream.events for stream in streams]
            results.append(
                {
                    "streams": level,
                    "db_queries_per_second": round(
                        (after["queries"] - before["queries"]) / elapsed, 1
                    ),
                    "events_per_stream_min": min(received),
                    "events_per_stream_median": statistics.median(received),
                    "server_rss_mb": round(after["rss_kb"] / 1024, 1),
                }
            )
            print(
                f"  {level:>5} streams: {results[-1]['db_queries_per_second']:6.1f} queries/s, "
                f"events per stream min {min(received)} (writer: {WRITES_PER_SECOND}/s "
                f"for {STREAM_WINDOW:.0f} s), server RSS {results[-1]['server_rss_mb']} MB",
                flush=True,
            )
    finally:
        writer.terminate()
        writer.wait()
        for stream in streams:
            if stream.task is not None:
                stream.task.cancel()
        await asyncio.gather(*(s.task for s in streams if s.task), return_exceptions=True)
    return results


# A job that moves forward WRITES_PER_SECOND times a second, in a process of its own.
_WRITER = """
import sys, time, msgspec
from shisho_jobs import Database, JobService, JobStatus, get_plugin_manager
database = Database(sys.argv[1])
service = JobService(database, plugin_manager=get_plugin_manager(load_entry_points=False))
job = service.create_job("export", library_id=1)
job = msgspec.structs.replace(job, status=JobStatus.IN_PROGRESS)
job = service.update_job(job, columns=["status"])
interval = 1 / float(sys.argv[2])
progress = 0
while True:
    progress = progress % 100 + 1
    job = service.update_job(msgspec.structs.replace(job, progress=progress), columns=["progress"])
    time.sleep(interval)
"""


# --- running -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _server(database_url: str, **config: Any) -> Any:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api:bench_app",
            "--app-dir",
            str(ROOT),
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
        ],
        env={
            **os.environ,
            "SHISHO_DATABASE_URL": database_url,
            "SHISHO_BENCH_CONFIG": json.dumps(config),
        },
    )
    try:

        def listens() -> bool:
            if process.poll() is not None:
                raise RuntimeError("the bench server exited before it listened")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listens, timeout=60, what="the bench server listens")
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _postgres_database() -> str | None:
    """A fresh PostgreSQL database with libraries 1-100 and the jobs tables, or ``None``."""
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL unreachable, its part skipped: {error}")
        return None
    finally:
        admin.dispose()
    url = base.set(database=PG_DATABASE).render_as_string(hide_password=False)
    status_query.create_host_libraries(url)
    migrate.upgrade(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seconds", type=float, default=8.0, help="per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL streams")
    parser.add_argument("--pages", type=int, default=1000, help="open pages, tabs sharing streams")
    parser.add_argument("--tabs-per-browser", type=int, default=20)
    args = parser.parse_args()
    shared_level = -(-args.pages // args.tabs_per_browser)  # one stream per browser

    path = _database(args.rows)
    url = f"sqlite:///{path}"
    status_paths = [STATUS_PATH.format(library=i) for i in range(1, LIBRARIES + 1)]
    print(f"{args.rows:,} jobs (SQLite), {os.cpu_count()} CPUs, {args.connections} connections")
    comparisons: dict[str, Any] = {}
    for name, config in VARIANTS:
        with _server(url, **config) as (port, _process):
            comparisons[name] = asyncio.run(
                _compare(port, status_paths, args.seconds, args.connections)
            )
            _print_comparison(f"{name} {json.dumps(config)}:", comparisons[name])
            if name == "defaults":
                print("event streams (SQLite):")
                # The shared level among the others: streams only open, in rising levels.
                levels = sorted({*args.streams, shared_level})
                streams = asyncio.run(_streams(port, levels, url))
                (shared_pages,) = (level for level in streams if level["streams"] == shared_level)
                print(
                    f"  = {args.pages:,} open pages, {args.tabs_per_browser} tabs per browser "
                    f"sharing one stream ({shared_level} browsers)"
                )
                shared_pages = {
                    "pages": args.pages,
                    "tabs_per_browser": args.tabs_per_browser,
                    **shared_pages,
                }

    postgres_streams = None
    postgres_url = None if args.no_postgres else _postgres_database()
    if postgres_url is not None:
        with _server(postgres_url) as (port, _process):
            print("event streams on PostgreSQL (LISTEN/NOTIFY wakes the watcher):")
            postgres_streams = asyncio.run(_streams(port, [1, max(args.streams)], postgres_url))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "api",
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "engine": "sqlite",
                "jobs": args.rows,
                "server": "uvicorn, 1 process, no access log",
                "client": f"asyncio raw HTTP/1.1, {args.connections} keep-alive connections, "
                f"{args.seconds:g} s per route in {ROUNDS} alternating rounds",
                "target": "status_to_trivial_throughput >= 0.5",
                "configurations": {name: dict(config) for name, config in VARIANTS},
                **comparisons,
                "event_streams": streams,
                "event_streams_postgresql": postgres_streams,
                "pages_sharing_streams": shared_pages,
                "event_writer_changes_per_second": WRITES_PER_SECOND,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    # Each stream is a socket on both ends.
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    main()
