"""Reading the host's catalogue: libraries and their books."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from library_host.models import books, libraries
from shisho_jobs import Database, Library

BOOKS_PAGE_SIZE = 500

WatchMode = Literal["events", "poll", "off"]
"""``Library.watch``: how workers notice changes in a library's folder."""


@dataclass(frozen=True)
class Book:
    """One book file as the library page lists it."""

    id: int
    path: str
    title: str
    author: str | None
    format: str
    size: int


_LIBRARY_COLUMNS = (
    libraries.c.id,
    libraries.c.name,
    libraries.c.path,
    libraries.c.watch,
    libraries.c.scan_interval_minutes,
)


def _library(
    library_id: int, name: str, path: str, watch: WatchMode, scan_interval: float | None
) -> Library:
    return Library(id=library_id, name=name, path=path, watch=watch, scan_interval=scan_interval)


def list_libraries(database: Database, ids: Collection[int] | None = None) -> list[Library]:
    """Libraries by id, all or only those in ``ids``."""
    query = sa.select(*_LIBRARY_COLUMNS).order_by(libraries.c.id)
    if ids is not None:
        query = query.where(libraries.c.id.in_(list(ids)))
    with database.read() as session:
        return [_library(*row) for row in session.execute(query)]


def get_library(database: Database, library_id: int) -> Library | None:
    """The library with this id, or ``None``."""
    query = sa.select(*_LIBRARY_COLUMNS).where(libraries.c.id == library_id)
    with database.read() as session:
        row = session.execute(query).one_or_none()
    return None if row is None else _library(*row)


def ensure_library(
    database: Database,
    library_id: int,
    name: str,
    path: str,
    *,
    watch: WatchMode | None = None,
) -> None:
    """Create library ``library_id`` unless it exists (an existing one is kept as it is).

    Args:
        watch: how workers watch its folder (``events`` when created); given for an
            existing library, it changes (a network share is polled, say).
    """
    with database.write() as session:
        exists = session.scalar(sa.select(libraries.c.id).where(libraries.c.id == library_id))
        if exists is None:
            session.execute(
                sa.insert(libraries).values(
                    id=library_id, name=name, path=path, watch=watch or "events"
                )
            )
        elif watch is not None:
            session.execute(
                sa.update(libraries).where(libraries.c.id == library_id).values(watch=watch)
            )


def list_books(
    database: Database, library_id: int, *, limit: int = BOOKS_PAGE_SIZE, offset: int = 0
) -> tuple[list[Book], int]:
    """One page of a library's books by title, and how many it has."""
    query = (
        sa.select(
            books.c.id, books.c.path, books.c.title, books.c.author, books.c.format, books.c.size
        )
        .where(books.c.library_id == library_id)
        .order_by(books.c.title, books.c.id)
        .limit(limit)
        .offset(offset)
    )
    count = sa.select(sa.func.count()).select_from(books).where(books.c.library_id == library_id)
    with database.read() as session:
        page = [Book(**row._mapping) for row in session.execute(query)]
        total = session.scalar(count) or 0
    return page, total
