"""The host's Alembic environment (README step 7): its tables only, SQLite foreign keys off."""

from __future__ import annotations

from alembic import context
from bookshelf.db import metadata

from shisho_jobs.config import database_url
from shisho_jobs.migrate import check_foreign_keys, include_object, migration_engine

url = context.config.get_main_option("sqlalchemy.url") or database_url()
engine = migration_engine(url)
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            render_as_batch=True,  # SQLite alters tables by rebuilding them
        )
        with context.begin_transaction():
            context.run_migrations()
            check_foreign_keys(connection)
finally:
    engine.dispose()
