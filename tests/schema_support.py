"""Database set-up shared by tests: the host's libraries table, then the jobs tables.

A plain module (not a conftest) so that test modules in any folder can import it.
"""

from __future__ import annotations

import sqlalchemy as sa

from shisho_jobs import Database
from shisho_jobs.schema import Base, owned_tables

LIBRARY_IDS = (1, 2, 3)

# The host's libraries table, as a minimal host would create it.
LIBRARIES_DDL = "CREATE TABLE libraries (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL)"


def create_schema(database: Database, library_ids: tuple[int, ...] = LIBRARY_IDS) -> None:
    """The host's libraries table with a few rows, then every shisho_jobs table."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql(LIBRARIES_DDL)
        for library_id in library_ids:
            connection.execute(
                sa.text("INSERT INTO libraries (id, name) VALUES (:id, :name)"),
                {"id": library_id, "name": f"Library {library_id}"},
            )
    Base.metadata.create_all(database.engine, tables=owned_tables())
