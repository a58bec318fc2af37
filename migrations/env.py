"""Alembic environment of the shisho_jobs migrations (used by ``shisho-jobs db``).

The database comes from ``config.attributes["url"]`` (set by
``shisho_jobs.migrate.alembic_config``), else ``sqlalchemy.url``, else the
``SHISHO_DATABASE_URL`` setting. A caller may instead hand over an open
connection in ``config.attributes["connection"]``; it then owns the
transaction and, on SQLite, must have foreign keys turned off.
"""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy as sa
from alembic import context

from shisho_jobs.config import database_url
from shisho_jobs.db import SQLITE_BEGIN_OPTION
from shisho_jobs.migrate import VERSION_TABLE, check_foreign_keys, migration_engine
from shisho_jobs.schema import Base

# Two hosts upgrading one PostgreSQL database at once take turns.
_PG_MIGRATION_LOCK = zlib.crc32(b"shisho_jobs:migrations") - 2**31


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate looks at our tables only: not the host's, not the version table."""
    if type_ == "table":
        if name == VERSION_TABLE or (obj is not None and obj.info.get("shisho_jobs_external")):
            return False
        if reflected and compare_to is None:
            return False
    return True


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        # SQLite runs DDL in transactions too: a failed revision leaves nothing behind.
        transactional_ddl=True,
        compare_type=True,
    )


def _run_in_transaction(connection: sa.Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        context.run_migrations()
        check_foreign_keys(connection)


def run_migrations_online() -> None:
    """Migrate over a connection of our own, or the one the caller passed in."""
    given = context.config.attributes.get("connection")
    if given is not None:
        _run_in_transaction(given)
        return
    url = (
        context.config.attributes.get("url")
        or context.config.get_main_option("sqlalchemy.url")
        or database_url()
    )
    # Tables are rebuilt by copy-and-drop on SQLite; enforced foreign keys would
    # make the DROP cascade into job_logs and job_events.
    engine = migration_engine(url)
    try:
        with engine.connect() as connection:
            # Take SQLite's write lock up front, like every shisho_jobs writer.
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            _run_in_transaction(connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (PostgreSQL; SQLite's table rebuilds need a database)."""
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    context.configure(
        url=str(url or database_url()),
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
