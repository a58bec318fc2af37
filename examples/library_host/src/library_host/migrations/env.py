"""Alembic environment of the host's own tables (libraries, books, users).

The host keeps its revisions in a version table of its own, beside the one of
shisho_jobs, so the two migration histories never see each other. Two things
every host's environment needs (docs/schema.md): autogenerate must skip the jobs
tables (``include_object``), and SQLite must migrate with foreign keys off
(``migration_engine``): rebuilding ``libraries`` with them on would delete every
book and every job through ``ON DELETE CASCADE``.
"""

from __future__ import annotations

from alembic import context

from library_host.migrate import VERSION_TABLE
from library_host.models import metadata
from shisho_jobs.migrate import check_foreign_keys, include_object, migration_engine


def run_migrations_online() -> None:
    """Migrate the database at ``config.attributes["url"]`` in one transaction."""
    engine = migration_engine(context.config.attributes["url"])
    try:
        with engine.begin() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                version_table=VERSION_TABLE,
                include_object=include_object,
                render_as_batch=True,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                check_foreign_keys(connection)
    finally:
        engine.dispose()


run_migrations_online()
