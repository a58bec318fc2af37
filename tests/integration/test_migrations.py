"""The Alembic migrations: head matches the models, every downgrade reverses its upgrade."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from shisho_jobs import migrate
from shisho_jobs.cli import main as cli_main
from shisho_jobs.db import create_engine
from shisho_jobs.errors import ForeignKeysEnabledDuringMigration, LibrariesTableMissing
from shisho_jobs.schema import LIBRARIES_TABLE, Base

ROOT = "20260101000000"
SEED = "20260113000000"
LEASES = "20261129000000"
RESULTS = "20261201000000"
NEWEST_BY_ID = "20261201100000"
WATCHES = "20261201150000"
LOG_LIBRARIES = "20261201200000"
REVISIONS = (ROOT, SEED, LEASES, RESULTS, NEWEST_BY_ID, WATCHES, LOG_LIBRARIES)
"""Every revision, oldest first."""
HEAD = REVISIONS[-1]
OUR_TABLES = {"jobs", "job_logs", "job_events", "job_scope_counts", "workers", "library_watches"}


def _make_libraries(url: str | sa.URL) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE libraries (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL)"
        )
        connection.exec_driver_sql("INSERT INTO libraries (id, name) VALUES (1, 'a'), (2, 'b')")
    engine.dispose()


@pytest.fixture
def url(database_url: str | sa.URL) -> str | sa.URL:
    """An empty database (SQLite file or PostgreSQL schema) holding only the host's libraries."""
    _make_libraries(database_url)
    return database_url


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out the version table and the host's libraries table (a stub in our metadata)."""
    if type_ != "table":
        return True
    return name not in (migrate.VERSION_TABLE, LIBRARIES_TABLE) and not (
        obj is not None and obj.info.get("shisho_jobs_external")
    )


def _differences(url: str | sa.URL) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _include, "compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str | sa.URL) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _columns(url: str | sa.URL, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _indexes(url: str | sa.URL, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {str(index["name"]) for index in sa.inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def _execute(url: str | sa.URL, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def test_head_matches_the_models(url: str | sa.URL) -> None:
    migrate.upgrade(url)

    assert migrate.current(url) == HEAD
    assert _differences(url) == []


def test_migrations_ship_in_the_package_tree() -> None:
    path = migrate.migrations_path()

    assert (path / "env.py").is_file()
    assert {p.name[:14] for p in migrate.versions_path().glob("*.py")} == set(REVISIONS)


def test_downgrade_to_the_branch_base_keeps_rows_and_upgrade_restores_everything(
    url: str | sa.URL,
) -> None:
    migrate.upgrade(url)
    _execute(
        url,
        "INSERT INTO jobs (id, created_at, updated_at, type, status, data, progress, library_id)"
        " VALUES (7, '2026-01-01 10:00:00', '2026-01-01 10:05:00', 'scan', 'completed', '{}',"
        " 100, 1)",
    )
    _execute(
        url,
        "INSERT INTO job_logs (created_at, job_id, level, message)"
        " VALUES ('2026-01-01 10:01:00', 7, 'info', 'hello')",
    )

    migrate.downgrade(url, SEED)
    assert _execute(url, "SELECT id, library_id FROM jobs") == [(7, 1)]
    assert "started_at" not in _columns(url, "jobs")
    assert "job_events" not in _tables(url)
    assert _indexes(url, "jobs") == {"ix_jobs_type_library_created"}

    migrate.downgrade(url, ROOT)
    assert "library_id" not in _columns(url, "jobs")
    assert _indexes(url, "jobs") == set()
    # Rebuilding jobs on SQLite must not cascade into its logs.
    assert _execute(url, "SELECT job_id, message FROM job_logs") == [(7, "hello")]

    migrate.upgrade(url)
    assert _differences(url) == []
    rows = _execute(url, "SELECT id, status, library_id, finished_at IS NOT NULL FROM jobs")
    assert [tuple(row) for row in rows] == [(7, "completed", None, True)]
    # Jobs from before the counts existed are counted (library_key 0: global).
    assert _execute(url, "SELECT type, library_key, jobs FROM job_scope_counts") == [("scan", 0, 1)]
    assert _execute(url, "SELECT job_id, message FROM job_logs") == [(7, "hello")]


def test_jobs_from_before_results_are_manual_and_cancelled_ones_downgrade_to_failed(
    url: str | sa.URL,
) -> None:
    migrate.upgrade(url, LEASES)
    _execute(
        url,
        "INSERT INTO jobs (id, created_at, updated_at, type, status, data, progress, library_id)"
        " VALUES (3, '2026-01-01 10:00:00', '2026-01-01 10:00:00', 'scan', 'pending', '{}', 0, 1)",
    )
    _execute(
        url,
        "INSERT INTO job_logs (created_at, job_id, level, message) VALUES"
        " ('2026-01-01 10:01:00', 3, 'warn', 'a'), ('2026-01-01 10:02:00', 3, 'info', 'b')",
    )
    migrate.upgrade(url)
    # Warn lines written before the count existed are counted.
    assert _execute(url, "SELECT trigger, warnings, result FROM jobs") == [("manual", 1, None)]
    _execute(
        url,
        "INSERT INTO job_logs (created_at, job_id, level, message)"
        " VALUES ('2026-01-01 10:03:00', 3, 'warn', 'c')",
    )
    assert _execute(url, "SELECT warnings FROM jobs") == [(2,)]
    _execute(url, "UPDATE jobs SET status = 'cancelled', trigger = 'watch' WHERE id = 3")
    # The counting triggers survive the table rebuild (SQLite).
    _execute(
        url,
        "INSERT INTO jobs (id, created_at, updated_at, type, status, data, progress, library_id)"
        " VALUES (4, '2026-01-01 11:00:00', '2026-01-01 11:00:00', 'scan', 'pending', '{}', 0, 1)",
    )
    assert _execute(url, "SELECT jobs FROM job_scope_counts WHERE library_key = 1") == [(2,)]

    migrate.downgrade(url, LEASES)

    rows = _execute(url, "SELECT id, status, error FROM jobs ORDER BY id")
    assert [tuple(row) for row in rows] == [(3, "failed", "Cancelled"), (4, "pending", None)]
    assert "workers" not in _tables(url)
    _execute(url, "DELETE FROM jobs WHERE id = 4")
    assert _execute(url, "SELECT jobs FROM job_scope_counts WHERE library_key = 1") == [(1,)]


def test_downgrade_to_base_drops_every_jobs_table(url: str | sa.URL) -> None:
    migrate.upgrade(url)

    migrate.downgrade(url, "base")

    assert migrate.current(url) is None
    assert _tables(url) & OUR_TABLES == set()
    assert "libraries" in _tables(url)


def test_upgrade_without_the_libraries_table_names_it(database_url: str | sa.URL) -> None:
    with pytest.raises(LibrariesTableMissing, match="`libraries`"):
        migrate.upgrade(database_url)

    # The failed revision left nothing behind: the whole upgrade is one transaction.
    assert _tables(database_url) & OUR_TABLES == set()


def test_deleting_a_library_deletes_its_jobs_logs_and_events(url: str | sa.URL) -> None:
    migrate.upgrade(url)
    _execute(
        url,
        "INSERT INTO jobs (id, created_at, updated_at, type, status, data, progress, library_id)"
        " VALUES (1, '2026-01-01', '2026-01-01', 'scan', 'pending', '{}', 0, 1),"
        " (2, '2026-01-01', '2026-01-01', 'scan', 'pending', '{}', 0, 2)",
    )
    _execute(
        url,
        "INSERT INTO job_logs (created_at, job_id, level, message)"
        " VALUES ('2026-01-01', 1, 'info', 'a'), ('2026-01-01', 2, 'info', 'b')",
    )
    _execute(
        url,
        "INSERT INTO job_events (created_at, job_id, library_id, event, job_json)"
        " VALUES ('2026-01-01', 1, 1, 'job.created', '{}')",
    )

    _execute(url, "DELETE FROM libraries WHERE id = 1")

    assert _execute(url, "SELECT id FROM jobs") == [(2,)]
    assert _execute(url, "SELECT job_id FROM job_logs") == [(2,)]
    assert _execute(url, "SELECT count(*) FROM job_events") == [(0,)]


def test_cli_upgrade_and_downgrade(url: str | sa.URL) -> None:
    text_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)

    assert cli_main(["db", "upgrade", "--database-url", text_url]) == 0
    assert migrate.current(url) == HEAD
    assert cli_main(["db", "downgrade", "--database-url", text_url]) == 0
    assert migrate.current(url) == REVISIONS[-2]  # one step down


_HOST_ENV = """
import sqlalchemy as sa
from alembic import context

engine = sa.create_engine(context.config.attributes["url"], poolclass=sa.NullPool)
if engine.dialect.name == "sqlite":
    @sa.event.listens_for(engine, "connect")
    def _foreign_keys_off(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys = OFF")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
engine.dispose()
"""

_HOST_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "host0001"
down_revision = None
branch_labels = ("host",)
depends_on = None


def upgrade():
    op.create_table("libraries", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("libraries")
"""


def test_a_host_alembic_environment_can_include_our_revisions(
    database_url: str | sa.URL, tmp_path: Path
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text(_HOST_ENV)
    (tmp_path / "versions" / "host0001_libraries.py").write_text(_HOST_REVISION)
    config = Config()
    config.set_main_option("script_location", str(tmp_path))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations",
        os.pathsep.join([str(tmp_path / "versions"), str(migrate.versions_path())]),
    )
    config.attributes["url"] = database_url

    command.upgrade(config, "host@head")
    command.upgrade(config, "heads")

    assert _differences(database_url) == []
    heads = _execute(database_url, "SELECT version_num FROM alembic_version")
    assert {row[0] for row in heads} == {"host0001", HEAD}


def test_sqlite_refuses_to_rebuild_tables_with_foreign_keys_on(sqlite_url: str) -> None:
    _make_libraries(sqlite_url)
    config = migrate.alembic_config(sqlite_url)
    engine = create_engine(sqlite_url)  # foreign keys on, as for the application
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            with pytest.raises(ForeignKeysEnabledDuringMigration):
                command.upgrade(config, "heads")
    finally:
        engine.dispose()
    assert _tables(sqlite_url) & OUR_TABLES == set()


def test_offline_mode_prints_the_postgresql_sql() -> None:
    config = migrate.alembic_config("postgresql+psycopg://nobody@127.0.0.1:1/none")
    config.output_buffer = io.StringIO()

    command.upgrade(config, "heads", sql=True)

    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE job_events" in sql
    assert "REFERENCES libraries (id) ON DELETE CASCADE" in sql
    assert f"UPDATE {migrate.VERSION_TABLE} SET version_num='{HEAD}'" in sql


def _snapshot(url: str | sa.URL) -> dict[str, Any]:
    """Everything a revision may change, as reflected from the database."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        snapshot: dict[str, Any] = {}
        for table in sorted(set(inspector.get_table_names()) & OUR_TABLES):
            snapshot[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(table)
                ],
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (str(i["name"]), tuple(map(str, i["column_names"])), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "foreign_keys": sorted(
                    (
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        str(fk.get("options", {}).get("ondelete")),
                    )
                    for fk in inspector.get_foreign_keys(table)
                ),
                "checks": sorted(str(c["name"]) for c in inspector.get_check_constraints(table)),
            }
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            else:
                query = (
                    "SELECT DISTINCT trigger_name FROM information_schema.triggers"
                    " WHERE event_object_schema = current_schema()"
                )
            snapshot["triggers"] = sorted(row[0] for row in connection.exec_driver_sql(query))
        return snapshot
    finally:
        engine.dispose()


def test_every_downgrade_restores_the_schema_its_upgrade_started_from(url: str | sa.URL) -> None:
    before: dict[str, dict[str, Any]] = {"base": _snapshot(url)}
    for revision in REVISIONS:
        migrate.upgrade(url, revision)
        before[revision] = _snapshot(url)
    assert before[HEAD]["triggers"], "the counting triggers exist at head"
    assert len({repr(snapshot) for snapshot in before.values()}) == len(REVISIONS) + 1, (
        "each revision changes it"
    )

    for revision in (*reversed(REVISIONS[:-1]), "base"):
        migrate.downgrade(url, revision)
        assert _snapshot(url) == before[revision], revision
