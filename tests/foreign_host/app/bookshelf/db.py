"""The host's own table and queries (SQLAlchemy Core, its own engine)."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from shisho_jobs.config import database_url

metadata = sa.MetaData()

libraries = sa.Table(
    "libraries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(400), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
)


@functools.cache
def engine() -> sa.Engine:
    """The host's engine, on the database every part of shisho-resync uses by default."""
    return sa.create_engine(database_url())


def library_rows() -> list[Any]:
    """Every library, by id."""
    with engine().connect() as connection:
        return list(connection.execute(sa.select(libraries).order_by(libraries.c.id)))


def library_row(library_id: int) -> Any | None:
    """One library, or ``None``."""
    with engine().connect() as connection:
        query = sa.select(libraries).where(libraries.c.id == library_id)
        return connection.execute(query).first()


def add_library(name: str, path: str) -> int:
    """Add a library; returns its id."""
    with engine().begin() as connection:
        result = connection.execute(sa.insert(libraries).values(name=name, path=path))
        return int(result.inserted_primary_key[0])
