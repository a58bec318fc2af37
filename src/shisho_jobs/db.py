"""Engine set-up and transactions, with the safe defaults each engine needs.

SQLite: WAL journal, a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE``
for every write transaction. A deferred transaction that reads and then writes
fails at once with "database is locked" when another writer got in first (the
busy timeout does not apply to that upgrade), so writers take the lock up front.

PostgreSQL: plain READ COMMITTED transactions; serialisation where needed is
done with transaction-scoped advisory locks by the callers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT = 30_000  # milliseconds
SQLITE_BEGIN_OPTION = "shisho_sqlite_begin"
"""Execution option naming a SQLite connection's ``BEGIN`` mode: ``DEFERRED`` or ``IMMEDIATE``."""
_BEGIN_OPTION = SQLITE_BEGIN_OPTION

Dialect = Literal["sqlite", "postgresql"]
CommitListener = Callable[[], None]


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that the
        # "begin" listener below decides between BEGIN and BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str | sa.URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with shisho_jobs' per-engine defaults applied."""
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name != "postgresql":
        raise ValueError(
            f"unsupported database {engine.dialect.name!r}: "
            "shisho_jobs runs on SQLite or PostgreSQL"
        )
    return engine


class Database:
    """An engine plus the two kinds of transaction shisho_jobs uses.

    ``read()`` gives a session for queries; ``write()`` a session whose
    transaction holds the write lock from its first statement on SQLite
    (``write_connection()``: the same as a Core connection, no ORM session).
    Callbacks registered with :meth:`on_commit` run after every successful
    ``write()`` or ``write_connection()`` that asked to notify (in this process only).
    """

    def __init__(self, url_or_engine: str | sa.URL | Engine, **engine_kwargs: Any) -> None:
        if isinstance(url_or_engine, Engine):
            self.engine = url_or_engine
        else:
            self.engine = create_engine(url_or_engine, **engine_kwargs)
        self._listeners: list[CommitListener] = []
        self._listeners_lock = threading.Lock()

    @property
    def dialect(self) -> Dialect:
        """``"sqlite"`` or ``"postgresql"``."""
        name = self.engine.dialect.name
        return "sqlite" if name == "sqlite" else "postgresql"

    @property
    def url(self) -> sa.URL:
        """The engine's URL."""
        return self.engine.url

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; its transaction is rolled back at the end."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, *, notify: bool = False) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error.

        Args:
            notify: run the in-process commit listeners after the commit
                (used when the transaction created or changed jobs).
        """
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            if self.dialect == "sqlite":
                session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
            yield session
        if notify:
            self._fire_listeners()

    @contextmanager
    def write_connection(self, *, notify: bool = False) -> Iterator[Connection]:
        """A Core connection in a write transaction: :meth:`write` without the ORM session.

        Same semantics as :meth:`write` (``BEGIN IMMEDIATE`` on SQLite, commit on
        success, rollback on error, the commit listeners after the commit when
        ``notify``), for hot paths that run plain SQL and need no ORM: opening
        and committing a session costs more Python time than a short SQLite
        transaction takes to run.

        Args:
            notify: run the in-process commit listeners after the commit
                (used when the transaction created or changed jobs).
        """
        with self.engine.connect() as connection:
            if self.dialect == "sqlite":
                # Set per connection rather than on an option view of the engine:
                # such a view dispatches every engine event through two listener lists.
                connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection
        if notify:
            self._fire_listeners()

    @contextmanager
    def driver_write(self, *, notify: bool = False) -> Iterator[Any]:
        """A DB-API cursor in a write transaction: :meth:`write_connection` without SQLAlchemy.

        For the worker's per-job statements, whose SQL is plain driver SQL: a pooled
        connection, ``BEGIN IMMEDIATE`` on SQLite (PostgreSQL's driver begins by itself),
        commit on success, rollback on error, the commit listeners after the commit when
        ``notify``. Same transaction semantics as :meth:`write`, without the Python cost of
        a SQLAlchemy connection, its events and its result objects, which is more than
        SQLite takes to run a short transaction. A driver error comes out as SQLAlchemy's
        ``DBAPIError``, as it would through SQLAlchemy.

        Args:
            notify: run the in-process commit listeners after the commit
                (used when the transaction created or changed jobs).
        """
        dialect = self.engine.dialect
        driver_error: type[Exception] = dialect.loaded_dbapi.Error
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                if self.dialect == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                connection.commit()
            except driver_error as error:
                connection.rollback()
                raise sa.exc.DBAPIError.instance(
                    None, None, error, driver_error, dialect=dialect
                ) from error
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool
        if notify:
            self._fire_listeners()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for quick reads: lighter than :meth:`read` (no ORM session).

        On PostgreSQL it runs in autocommit, so each statement is one round trip
        instead of three (BEGIN, the query, ROLLBACK) and sees its own snapshot;
        use :meth:`read` when several statements must agree with each other.
        On SQLite it is a deferred read transaction, rolled back at the end.
        """
        connection = self.engine.connect()
        if self.dialect == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        with connection:
            yield connection

    def on_commit(self, listener: CommitListener) -> Callable[[], None]:
        """Call ``listener`` after each notifying commit; returns a function that unregisters it."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def _remove() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return _remove

    def _fire_listeners(self) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
