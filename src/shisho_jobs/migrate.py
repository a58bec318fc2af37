"""Run the shisho_jobs Alembic migrations, from the CLI or from a host's code.

The migrations keep their own version table (:data:`VERSION_TABLE`), so
``shisho-jobs db upgrade`` never sees, and never trips over, a host's own
Alembic revisions in ``alembic_version``. A host that prefers one Alembic
environment for everything adds :func:`versions_path` to its
``version_locations`` instead (see docs/schema.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from shisho_jobs.db import create_engine
from shisho_jobs.errors import (
    BrokenForeignKeysAfterMigration,
    ForeignKeysEnabledDuringMigration,
    LibrariesTableMissing,
    MigrationsNotFound,
)
from shisho_jobs.schema import LIBRARIES_TABLE, owned_tables

VERSION_TABLE = "shisho_jobs_alembic_version"
"""Where ``shisho-jobs db`` records the applied revision (not the host's ``alembic_version``)."""

BRANCH_LABEL = "shisho_jobs"
"""Branch label of the root revision: ``shisho_jobs@head`` in a host's Alembic environment."""

_PACKAGE_DIR = Path(__file__).resolve().parent


def migrations_path() -> Path:
    """The Alembic script directory (``env.py``, ``versions/``).

    Inside an installed wheel it is ``shisho_jobs/migrations``; in a source
    checkout (editable install) it is ``migrations/`` at the repository root.

    Raises:
        MigrationsNotFound: neither place holds the scripts.
    """
    for candidate in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parents[1] / "migrations"):
        if (candidate / "env.py").is_file() and (candidate / "versions").is_dir():
            return candidate
    raise MigrationsNotFound()


def versions_path() -> Path:
    """The folder of revision scripts, for a host's ``version_locations``."""
    return migrations_path() / "versions"


def alembic_config(url: str | sa.URL) -> Config:
    """An Alembic configuration that migrates the database at ``url``.

    The URL travels in ``config.attributes`` rather than the ini options, so
    passwords holding ``%`` need no escaping.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.attributes["url"] = url
    return config


def upgrade(url: str | sa.URL, revision: str = "heads") -> None:
    """Upgrade the jobs tables at ``url`` to ``revision`` (default: the newest).

    The host's ``libraries`` table must exist first.

    Raises:
        LibrariesTableMissing: the host's ``libraries`` table does not exist.
    """
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | sa.URL, revision: str) -> None:
    """Downgrade the jobs tables at ``url`` to ``revision`` (``base`` drops them all)."""
    command.downgrade(alembic_config(url), revision)


def current(url: str | sa.URL) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` before the first upgrade."""
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


# --- checks the revision scripts call ----------------------------------------------------------


def _offline(connection: object) -> bool:
    # ``alembic upgrade --sql`` hands revisions a mock connection that prints SQL
    # and cannot answer questions; the checks are then the reader's job.
    return not isinstance(connection, sa.Connection)


def require_libraries_table(connection: sa.Connection) -> None:
    """Stop with a clear error when the host's ``libraries`` table does not exist yet.

    Raises:
        LibrariesTableMissing: it does not.
    """
    if _offline(connection):
        return
    if not sa.inspect(connection).has_table(LIBRARIES_TABLE):
        raise LibrariesTableMissing()


def require_foreign_keys_off(connection: sa.Connection) -> None:
    """On SQLite, refuse to rebuild a table while foreign keys are enforced.

    SQLite alters a table by copying it and dropping the original; with foreign
    keys on, that DROP deletes the rows of every table referencing it with
    ``ON DELETE CASCADE`` (a job's logs and events). Our ``env.py`` turns them
    off; a host's own Alembic environment must do the same.

    Raises:
        ForeignKeysEnabledDuringMigration: they are on.
    """
    if connection.dialect.name != "sqlite" or _offline(connection):
        return
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise ForeignKeysEnabledDuringMigration()


# --- for a host's own Alembic environment ------------------------------------------------------


def owned_table_names() -> frozenset[str]:
    """Every table shisho_jobs creates, plus its Alembic version table.

    A host's autogenerate must leave these alone: it does not know them, so it
    would propose dropping them.
    """
    return frozenset(table.name for table in owned_tables()) | {VERSION_TABLE}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """An ``include_object`` for a host's ``env.py``: autogenerate skips our tables.

    ``context.configure(..., include_object=shisho_jobs.migrate.include_object)``.
    Skipping a table skips its columns, indexes and constraints too. A host with a
    filter of its own calls this one from it.

    Returns:
        ``False`` for a table shisho_jobs owns (and our version table), else ``True``.
    """
    return not (type_ == "table" and name in owned_table_names())


def migration_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for running migrations, a host's included, with SQLite foreign keys off.

    SQLite alters a table by copying it and dropping the original. With foreign keys
    on, dropping the host's ``libraries`` during such a rebuild (Alembic's
    ``batch_alter_table``) deletes every job, log line and event through
    ``ON DELETE CASCADE``, without an error. This engine has shisho_jobs' other
    SQLite settings (WAL, busy timeout, ``BEGIN IMMEDIATE`` on request) and turns
    foreign keys off on every connection; check the result with
    :func:`check_foreign_keys` before committing. Other engines are returned as
    :func:`shisho_jobs.db.create_engine` makes them.
    """
    engine = create_engine(url, poolclass=sa.NullPool)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
            # Runs after create_engine's own connect listener, which turns them on.
            dbapi_connection.execute("PRAGMA foreign_keys = OFF")

    return engine


def check_foreign_keys(connection: sa.Connection) -> None:
    """On SQLite, fail when a migration left rows whose foreign keys point nowhere.

    With foreign keys off nothing checks them while migrating; this does, once, at
    the end, inside the migration's transaction (so raising rolls it back).

    Raises:
        BrokenForeignKeysAfterMigration: some rows reference missing rows.
    """
    if connection.dialect.name != "sqlite" or _offline(connection):
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise BrokenForeignKeysAfterMigration(
            f"The migration left rows with broken foreign keys (table, rowid, parent): "
            f"{[tuple(row[:3]) for row in broken[:5]]}"
        )
