"""Alembic environment of the host's own tables (libraries, books, users).

The host keeps its revisions in a version table of its own, beside the one of
shisho_jobs, so the two migration histories never see each other.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from library_host.migrate import VERSION_TABLE
from library_host.models import metadata
from shisho_jobs.db import create_engine


def run_migrations_online() -> None:
    """Migrate the database at ``config.attributes["url"]`` in one transaction."""
    engine = create_engine(context.config.attributes["url"], poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                version_table=VERSION_TABLE,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
