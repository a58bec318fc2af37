"""Write transactions: the lock taken up front, rollback on error, listeners after commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import sqlalchemy as sa

from shisho_jobs import Database

Writer = Callable[..., AbstractContextManager[Any]]


def _insert_library(transaction: Any, library_id: int) -> None:
    transaction.execute(
        sa.text("INSERT INTO libraries (id, name) VALUES (:id, 'extra')"), {"id": library_id}
    )


def _library_ids(database: Database) -> list[int]:
    with database.engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT id FROM libraries ORDER BY id")).scalars())


@pytest.fixture(params=["write", "write_connection"])
def writer(request: pytest.FixtureRequest, database: Database) -> Writer:
    """Each kind of write transaction (ORM session, Core connection)."""
    method: Writer = getattr(database, request.param)
    return method


def test_a_write_commits_then_notifies(database: Database, writer: Writer) -> None:
    seen: list[list[int]] = []
    remove = database.on_commit(lambda: seen.append(_library_ids(database)))
    try:
        with writer(notify=True) as transaction:
            _insert_library(transaction, 10)
            assert seen == []  # nothing is announced before the commit
        with writer() as transaction:  # notify=False: listeners stay quiet
            _insert_library(transaction, 11)
    finally:
        remove()
    assert seen == [[1, 2, 3, 10]]  # listeners ran once, after the commit, and saw it
    assert _library_ids(database) == [1, 2, 3, 10, 11]


def test_a_failing_write_keeps_nothing_and_notifies_nobody(
    database: Database, writer: Writer
) -> None:
    seen: list[str] = []
    remove = database.on_commit(lambda: seen.append("commit"))
    try:
        with pytest.raises(RuntimeError), writer(notify=True) as transaction:
            _insert_library(transaction, 12)
            raise RuntimeError("handler failed")
    finally:
        remove()
    assert seen == []
    assert _library_ids(database) == [1, 2, 3]


@pytest.fixture
def sqlite_database(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
    try:
        yield database
    finally:
        database.dispose()


@pytest.mark.parametrize("kind", ["write", "write_connection"])
def test_sqlite_writers_hold_the_write_lock_from_their_first_statement(
    sqlite_database: Database, kind: str
) -> None:
    # A writer that only read so far must already hold the lock: otherwise a second
    # writer could slip in between its read and its write (read-then-write races, and
    # "database is locked" errors that the busy timeout does not cover).
    path = sqlite_database.url.database
    assert path is not None
    with getattr(sqlite_database, kind)() as transaction:
        transaction.execute(sa.text("SELECT count(*) FROM counter")).scalar()
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
