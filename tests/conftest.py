"""Shared fixtures: a fresh database per test, on a real SQLite file and a real PostgreSQL.

PostgreSQL isolation: one database per test run (so parallel runs never collide:
advisory locks and NOTIFY channels are per database), one schema per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from schema_support import create_schema
from shisho_jobs import Database, JobService, get_plugin_manager

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _require_postgres() -> bool:
    return os.environ.get("SHISHO_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[sa.URL]:
    """URL of a database made for this test run; dropped at the end."""
    base = sa.make_url(os.environ.get("SHISHO_TEST_POSTGRES_URL", DEFAULT_PG_URL))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"shisho_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        if _require_postgres():
            pytest.fail(
                f"PostgreSQL is required (SHISHO_REQUIRE_POSTGRES=1) but unreachable: {error}"
            )
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        yield base.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_schema_url(pg_server_url: sa.URL) -> Iterator[sa.URL]:
    """The run's database with a fresh schema first on the search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_server_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = pg_server_url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of its own."""
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | sa.URL:
    """A fresh, empty database URL, once per engine."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url: sa.URL = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def database(database_url: str | sa.URL) -> Iterator[Database]:
    """A fresh database with the schema and libraries 1-3, once per engine."""
    db = Database(database_url)
    create_schema(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def service(database: Database) -> JobService:
    """A JobService with a fresh plugin manager (built-in job types only)."""
    return JobService(database, plugin_manager=get_plugin_manager(load_entry_points=False))
