"""How fast the resync button's status queries are at 1,000,000 jobs, ours against the seed's.

Builds (once; reused from bench/data/ on later runs) a jobs history of 1M rows
across 100 libraries, 5% of them global scans, nearly all finished, at most one
active scan per scope. Then times, on SQLite and PostgreSQL:

- ``JobService.list_jobs(type=scan, library_id_or_global=X, limit=1)`` (the
  button's query) and ``JobService.has_active_job("scan", X)``, through the
  service (Python, SQLAlchemy and all);
- the seed's literal SQL for the same two questions (and its ``COUNT(*)``), run
  through the bare driver on a copy of the rows that carries only the seed's
  schema and indexes (migrated to revision 20260113000000), since on our schema
  the seed's SQL would borrow our indexes.

Prints medians and ratios and writes bench/results/status_query.json.

Usage: python bench/status_query.py [--rows N] [--pg-rows N] [--rebuild] [--no-postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shisho_jobs import (
    Database,
    JobService,
    ListJobsOptions,
    get_plugin_manager,
    migrate,
    scope_counts,
)
from shisho_jobs.db import create_engine
from shisho_jobs.filters import ListJobsFilter
from shisho_jobs.queries import ACTIVE_IN_SCOPE, list_shape_and_params, list_statements

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
RESULTS = ROOT / "results" / "status_query.json"
SEED_REVISION = "20260113000000"
LIBRARIES = 100
GLOBAL_EVERY = 20  # every 20th job is a global scan: 5%
EXPORT_EVERY = 10  # every 10th library job is an export, the rest are scans
ACTIVE_EVERY = 10  # libraries 10, 20, ... have an active scan (their newest)
DEFAULT_ROWS = 1_000_000
EPOCH_2025 = 1_735_689_600  # 2025-01-01T00:00:00Z in seconds
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DATABASE = "shisho_bench_status"
MAX_SAMPLES = 2_000  # timed calls per query
MIN_SAMPLES = 30
SAMPLE_BUDGET = 3.0  # seconds per query, once MIN_SAMPLES are in
WARMUP = 100  # untimed calls first

# The seed's SQL, as bun wrote it for ListJobs(limit 1) / its total / HasActiveJob.
SEED_LIST_SQL = (
    'SELECT "j"."id", "j"."created_at", "j"."updated_at", "j"."type", "j"."status", "j"."data",'
    ' "j"."progress", "j"."process_id", "j"."library_id" FROM "jobs" AS "j"'
    ' WHERE ("j"."type" = \'scan\') AND ("j"."library_id" = {lib} OR "j"."library_id" IS NULL)'
    ' ORDER BY "j"."created_at" DESC LIMIT 1'
)
SEED_COUNT_SQL = (
    'SELECT count(*) FROM "jobs" AS "j"'
    ' WHERE ("j"."type" = \'scan\') AND ("j"."library_id" = {lib} OR "j"."library_id" IS NULL)'
)
SEED_ACTIVE_SQL = (
    'SELECT count(*) FROM "jobs" AS "job" WHERE (type = \'scan\')'
    " AND (status = 'pending' OR status = 'in_progress')"
    " AND (library_id = {lib} OR library_id IS NULL)"
)

# One generated history, written identically into both schemas. n runs 1..rows;
# created_at grows by one second per job.
_ROWS_SQL = """
    {source}
    SELECT n,
        {created} AS created_at,
        {updated} AS updated_at,
        CASE WHEN n % {global_every} = 0 OR n % {export_every} <> 1 THEN 'scan' ELSE 'export' END,
        CASE WHEN n % 10 = 3 THEN 'failed' ELSE 'completed' END,
        '{{}}',
        100,
        CASE WHEN n % {global_every} = 0 THEN NULL ELSE n % {libraries} + 1 END
    FROM numbers
"""


def _rows_select(dialect: str, rows: int) -> str:
    if dialect == "sqlite":
        source = (
            "WITH RECURSIVE numbers(n) AS"
            f" (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < {rows})"
        )
        created = "datetime('2025-01-01', '+' || n || ' seconds')"
        updated = "datetime('2025-01-01', '+' || (n + 60) || ' seconds')"
    else:
        source = f"WITH numbers(n) AS (SELECT generate_series(1, {rows}))"
        created = f"to_timestamp({EPOCH_2025} + n)"
        updated = f"to_timestamp({EPOCH_2025} + n + 60)"
    return _ROWS_SQL.format(
        source=source,
        created=created,
        updated=updated,
        global_every=GLOBAL_EVERY,
        export_every=EXPORT_EVERY,
        libraries=LIBRARIES,
    )


_COLUMNS = "id, created_at, updated_at, type, status, data, progress, library_id"


def create_host_libraries(url: str) -> None:
    """The host's ``libraries`` table with LIBRARIES rows, as a host has it before migrating."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute(
            sa.text("INSERT INTO libraries (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": f"Library {i}"} for i in range(1, LIBRARIES + 1)],
        )
    engine.dispose()


def _fill(url: str, revision: str, rows: int, *, ours: bool) -> None:
    """Migrate a fresh database to ``revision`` and write the history into it."""
    create_host_libraries(url)
    migrate.upgrade(url, revision)
    engine = create_engine(url)
    with engine.begin() as connection:
        dialect = connection.dialect.name
        # text() escapes the modulo signs for psycopg's parameter style.
        connection.execute(sa.text(f"INSERT INTO jobs ({_COLUMNS}) {_rows_select(dialect, rows)}"))
        if ours:
            connection.exec_driver_sql(
                "UPDATE jobs SET finished_at = updated_at, started_at = created_at, attempt = 1"
            )
        # The newest scan of every tenth library is still active (one pending, one running).
        for library_id in range(ACTIVE_EVERY, LIBRARIES + 1, ACTIVE_EVERY):
            status = "pending" if library_id % 20 else "in_progress"
            finished = ", finished_at = NULL, progress = 40" if ours else ", progress = 40"
            connection.exec_driver_sql(
                f"UPDATE jobs SET status = '{status}'{finished} WHERE id = (SELECT max(id)"
                f" FROM jobs WHERE type = 'scan' AND library_id = {library_id})"
            )
    # Statistics, and on PostgreSQL the visibility map that index-only scans need
    # (autovacuum would get there on a live server; a fresh bulk load has neither).
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE jobs")
    engine.dispose()


def _count_jobs(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM jobs").scalar() or 0)
    except sa.exc.DBAPIError:
        return -1
    finally:
        engine.dispose()


def _median_ms(call: Callable[[int], Any], libraries: list[int]) -> float:
    """Median wall time of ``call(library_id)`` in milliseconds, cycling through ``libraries``.

    Takes up to MAX_SAMPLES samples, or as many as fit in SAMPLE_BUDGET seconds
    (the seed's queries are slow), but at least MIN_SAMPLES.
    """
    for library_id in libraries[:WARMUP]:
        call(library_id)
    samples: list[int] = []
    deadline = time.perf_counter() + SAMPLE_BUDGET
    while len(samples) < MAX_SAMPLES and (
        len(samples) < MIN_SAMPLES or time.perf_counter() < deadline
    ):
        library_id = libraries[len(samples) % len(libraries)]
        started = time.perf_counter_ns()
        call(library_id)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e6


# --- building -------------------------------------------------------------------------------


def _schema_version() -> str:
    """A short fingerprint of the revision scripts: a changed schema gets a fresh build."""
    digest = hashlib.sha256()
    for path in [*sorted(migrate.versions_path().glob("*.py")), Path(scope_counts.__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def _sqlite_databases(rows: int, rebuild: bool) -> tuple[str, str]:
    """Paths of our database and the seed's copy, built unless already there."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, revision, ours in (("ours", "heads", True), ("seed", SEED_REVISION, False)):
        path = DATA_DIR / f"status_{name}_{rows}_{_schema_version()}.db"
        if rebuild or _count_jobs(f"sqlite:///{path}") != rows:
            building = path.with_suffix(".building")
            for leftover in (path, building):
                leftover.unlink(missing_ok=True)
            print(f"building {path.name} ({rows:,} jobs) ...", flush=True)
            _fill(f"sqlite:///{building}", revision, rows, ours=ours)
            building.rename(path)
        paths.append(str(path))
    return paths[0], paths[1]


def _postgres_urls(rows: int, rebuild: bool) -> tuple[str, str] | None:
    """URLs (one schema each) of our tables and the seed's copy, built unless already there."""
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
            ).first()
            if exists is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL unreachable, skipped: {error}")
        return None
    finally:
        admin.dispose()
    database = base.set(database=PG_DATABASE)
    urls = []
    for name, revision, ours in (("ours", "heads", True), ("seed", SEED_REVISION, False)):
        schema = f"status_{name}_{rows}_{_schema_version()}"
        url = database.update_query_dict({"options": f"-csearch_path={schema}"})
        text = url.render_as_string(hide_password=False)
        if rebuild or _count_jobs(text) != rows:
            print(f"building PostgreSQL schema {schema} ({rows:,} jobs) ...", flush=True)
            engine = sa.create_engine(database)
            with engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            engine.dispose()
            _fill(text, revision, rows, ours=ours)
        urls.append(text)
    return urls[0], urls[1]


# --- measuring ------------------------------------------------------------------------------


def _our_sql(database: Database, library_id: int) -> tuple[str, str]:
    """The SQL our service runs for the two questions, with literal values, for the bare driver."""
    dialect = database.engine.dialect
    latest = ListJobsFilter(type="scan", library_id_or_global=library_id, limit=1)
    shape, values = list_shape_and_params(latest)
    page, _ = list_statements(shape)
    literal = {"literal_binds": True}
    list_sql = str(page.params(values).compile(dialect=dialect, compile_kwargs=literal))
    active = ACTIVE_IN_SCOPE.params(type="scan", library_id=library_id)
    return list_sql, str(active.compile(dialect=dialect, compile_kwargs=literal))


def _measure(
    engine_name: str, ours_url: str, seed_connect: Callable[[], Any], rows: int
) -> dict[str, Any]:
    database = Database(ours_url)
    service = JobService(database, plugin_manager=get_plugin_manager(load_entry_points=False))
    libraries = list(range(1, LIBRARIES + 1))
    seed = seed_connect()

    def seed_query(template: str) -> Callable[[int], Any]:
        def run(library_id: int) -> Any:
            cursor = seed.cursor()
            cursor.execute(template.format(lib=library_id))
            return cursor.fetchall()

        return run

    raw_connection = database.engine.raw_connection()
    our_sql = {lib: _our_sql(database, lib) for lib in libraries}

    def ours_bare(index: int) -> Callable[[int], Any]:
        def run(library_id: int) -> Any:
            cursor = raw_connection.cursor()
            cursor.execute(our_sql[library_id][index])
            return cursor.fetchall()

        return run

    figures = {
        "list_latest_scan": {
            "ours_service_ms": _median_ms(
                lambda lib: service.list_jobs(
                    ListJobsOptions(type="scan", library_id_or_global=lib, limit=1)
                ),
                libraries,
            ),
            "ours_bare_sql_ms": _median_ms(ours_bare(0), libraries),
            "seed_sql_ms": _median_ms(seed_query(SEED_LIST_SQL), libraries),
        },
        "has_active_job": {
            "ours_service_ms": _median_ms(
                lambda lib: service.has_active_job("scan", lib), libraries
            ),
            "ours_bare_sql_ms": _median_ms(ours_bare(1), libraries),
            "seed_sql_ms": _median_ms(seed_query(SEED_ACTIVE_SQL), libraries),
        },
        "total_of_scope": {
            "ours_service_ms": _median_ms(
                lambda lib: service.list_jobs_with_total(
                    ListJobsOptions(type="scan", library_id_or_global=lib, limit=1)
                ),
                libraries,
            ),
            "seed_sql_ms": _median_ms(seed_query(SEED_COUNT_SQL), libraries),
        },
    }
    # Same answers from both: the bench compares equal work.
    for lib in (1, ACTIVE_EVERY):
        ours_latest = service.list_jobs(
            ListJobsOptions(type="scan", library_id_or_global=lib, limit=1)
        )[0]
        assert ours_latest.id == seed_query(SEED_LIST_SQL)(lib)[0][0]
        assert service.has_active_job("scan", lib) == (seed_query(SEED_ACTIVE_SQL)(lib)[0][0] > 0)
    raw_connection.close()
    seed.close()
    database.dispose()
    for figure in figures.values():
        figure["speedup"] = round(figure["seed_sql_ms"] / figure["ours_service_ms"], 1)
    return {"engine": engine_name, "jobs": rows, "libraries": LIBRARIES, **figures}


def _print(result: dict[str, Any]) -> None:
    print(f"\n{result['engine']}: {result['jobs']:,} jobs, {result['libraries']} libraries")
    print(
        f"  {'query':<18} {'ours (service)':>15} {'ours (bare SQL)':>16}"
        f" {'seed SQL':>10} {'speed-up':>9}"
    )
    for name in ("list_latest_scan", "has_active_job", "total_of_scope"):
        figure = result[name]
        bare = figure.get("ours_bare_sql_ms")
        bare_text = f"{bare:.4f} ms" if bare is not None else "-"
        print(
            f"  {name:<18} {figure['ours_service_ms']:>12.4f} ms {bare_text:>16}"
            f" {figure['seed_sql_ms']:>7.3f} ms {figure['speedup']:>8.1f}x"
        )


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the databases, time the queries, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="jobs on SQLite")
    parser.add_argument("--pg-rows", type=int, default=DEFAULT_ROWS, help="jobs on PostgreSQL")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the databases")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)

    results = []
    ours_path, seed_path = _sqlite_databases(args.rows, args.rebuild)
    seed_file = seed_path.removeprefix("sqlite:///")
    results.append(
        _measure("sqlite", f"sqlite:///{ours_path}", lambda: sqlite3.connect(seed_file), args.rows)
    )
    _print(results[-1])
    if not args.no_postgres:
        urls = _postgres_urls(args.pg_rows, args.rebuild)
        if urls is not None:
            # psycopg is the optional "postgres" extra; only a PostgreSQL run needs it.
            import psycopg  # noqa: PLC0415

            ours_url, seed_url = urls
            seed_dsn = sa.make_url(seed_url).set(drivername="postgresql")
            dsn = seed_dsn.render_as_string(hide_password=False)
            results.append(
                _measure(
                    "postgresql",
                    ours_url,
                    lambda: psycopg.connect(dsn, autocommit=True),
                    args.pg_rows,
                )
            )
            _print(results[-1])

    sqlite_result = results[0]
    targets = {
        "sqlite_under_0.1ms": all(
            sqlite_result[q]["ours_service_ms"] < 0.1
            for q in ("list_latest_scan", "has_active_job")
        ),
        "sqlite_at_least_50x": all(
            sqlite_result[q]["speedup"] >= 50 for q in ("list_latest_scan", "has_active_job")
        ),
    }
    print(f"\ntargets (list_latest_scan and has_active_job on SQLite): {targets}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "status_query",
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "cpus": os.cpu_count(),
                "method": "median wall time per call, libraries 1-100 cycled; ours through "
                "JobService, the seed's SQL through the bare driver on a seed-schema copy",
                "results": results,
                "targets_met": targets,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
