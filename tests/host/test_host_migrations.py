"""A host's own Alembic history beside ours: its batch rebuild of ``libraries`` keeps every
job, log line and event, and its autogenerate proposes nothing about our tables (issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from library_host import catalog, migrate, models
from library_host.database import get_database
from shisho_jobs import JobService, JobStatus, get_plugin_manager
from shisho_jobs import migrate as jobs_migrate
from shisho_jobs.migrate import migration_engine
from shisho_jobs.schema import Base

# A later release of the host: a revision that rebuilds `libraries` on SQLite
# (copy to a new table, drop the old one, rename), as batch_alter_table does for
# most changes there.
REBUILD_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "host_0099_rebuild"
down_revision = "host_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Longer library names (a table rebuild on SQLite)."""
    with op.batch_alter_table("libraries", recreate="always") as batch:
        batch.alter_column("name", type_=sa.String(500), existing_nullable=False)


def downgrade() -> None:
    """Nothing to undo for the test."""
'''

HISTORY_TABLES = ("jobs", "job_logs", "job_events", "books")


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: int(
                    connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                )
                for table in HISTORY_TABLES
            }
    finally:
        engine.dispose()


def _with_history(url: str, tmp_path: Path) -> None:
    migrate.upgrade(url)
    database = get_database(url)
    try:
        folder = tmp_path / "books"
        folder.mkdir()
        catalog.ensure_library(database, 1, "Books", str(folder))
        with database.write() as session:
            session.execute(
                sa.text(
                    "INSERT INTO books (library_id, path, title, author, format, size, mtime_ns, "
                    "scanned_at) VALUES (1, 'a.epub', 'A', 'B', 'epub', 1, 1, '2026-01-01')"
                )
            )
        service = JobService(database, plugin_manager=get_plugin_manager())
        for _ in range(3):
            job = service.create_job("scan", library_id=1, status=JobStatus.COMPLETED)
            service.add_job_log(job.id, "info", "a line of the job's history")
    finally:
        database.dispose()


def test_a_host_batch_rebuild_of_libraries_keeps_job_history(
    sqlite_url: str, tmp_path: Path
) -> None:
    _with_history(sqlite_url, tmp_path)
    before = _counts(sqlite_url)
    assert before == {"jobs": 3, "job_logs": 3, "job_events": 3, "books": 1}

    versions = tmp_path / "later_release"
    versions.mkdir()
    (versions / "host_0099_rebuild.py").write_text(REBUILD_REVISION)
    config = migrate.alembic_config(sqlite_url)
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations",
        os.pathsep.join([str(migrate.MIGRATIONS_PATH / "versions"), str(versions)]),
    )
    command.upgrade(config, "heads")  # the host's own env.py, as it ships

    assert _counts(sqlite_url) == before
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        name = sa.inspect(connection).get_columns("libraries")[1]
        assert name["name"] == "name"
        assert name["type"].length == 500  # the rebuild did happen
    engine.dispose()


def test_the_hosts_autogenerate_proposes_no_change_to_our_tables(
    sqlite_url: str, tmp_path: Path
) -> None:
    _with_history(sqlite_url, tmp_path)
    # `alembic check`: autogenerate through the host's own env.py, against a database that
    # also holds every table of ours; it raises when it would write any operation.
    command.check(migrate.alembic_config(sqlite_url))


def test_our_metadata_sits_beside_a_host_libraries_model(sqlite_url: str, tmp_path: Path) -> None:
    # A host may list our MetaData in target_metadata next to its own, which has a
    # `libraries` model: no "Duplicate table keys", and nothing to change on either side.
    _with_history(sqlite_url, tmp_path)
    engine = migration_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _neither_version_table}
            )
            differences = compare_metadata(context, [models.metadata, Base.metadata])
    finally:
        engine.dispose()
    assert differences == []
    assert "libraries" not in Base.metadata.tables


def _neither_version_table(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return name not in (migrate.VERSION_TABLE, jobs_migrate.VERSION_TABLE)
