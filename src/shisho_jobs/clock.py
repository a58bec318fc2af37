"""The time for statements that compare it with times written on other hosts: one clock.

Hosts' clocks disagree. Wherever one host judges a time another host wrote (a lease, a
heartbeat, a worker's expiry, a job's last progress, a run's start against its hard
limit, a retention or schedule cut-off, which job is newest), both the written time and
"now" come from the database's clock on PostgreSQL. SQLite lives on one host, whose
clock is the only one: Python's time (:func:`~shisho_jobs.schema.utcnow`) is used,
stored the way :class:`~shisho_jobs.schema.UTCDateTime` stores it.

Three ways in, one clock:

- :func:`database_now` / :func:`database_time_from_now`: SQLAlchemy expressions for a
  statement being built (on SQLite they hold the time of the call);
- :data:`POSTGRES_NOW`: the same time in driver SQL, for statements written as text
  (the worker's hot path);
- :func:`now_on`: the time as a value, read inside the caller's transaction, where an
  ORM object needs it before its statement runs.

PostgreSQL's time is ``statement_timestamp()``: not ``now()``, the start of the
transaction, which can be long before the row is written when the transaction waited
for a lock (start-or-join waits for its scope's lock); not ``clock_timestamp()``, which
is volatile, so a comparison with it cannot use an index.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.schema import UTCDateTime, utcnow

POSTGRES_NOW: Final = "statement_timestamp()"
"""The database's time, in PostgreSQL SQL."""


def uses_database_clock(dialect: sa.Dialect | str) -> bool:
    """Whether times come from the database (PostgreSQL) rather than this host (SQLite)."""
    name = dialect if isinstance(dialect, str) else dialect.name
    return name == "postgresql"


def database_now(dialect: str) -> sa.ColumnElement[datetime]:
    """The current time: the database's on PostgreSQL, this host's clock on SQLite."""
    if uses_database_clock(dialect):
        return sa.func.statement_timestamp(type_=UTCDateTime())
    return sa.literal(utcnow(), UTCDateTime())


def database_time_from_now(dialect: str, seconds: float) -> sa.ColumnElement[datetime]:
    """The current time plus ``seconds`` (negative: in the past), on the database's clock."""
    if uses_database_clock(dialect):
        shift = sa.literal(timedelta(seconds=seconds), sa.Interval())
        return sa.type_coerce(sa.func.statement_timestamp() + shift, UTCDateTime())
    return sa.literal(utcnow() + timedelta(seconds=seconds), UTCDateTime())


def now_on(connection: Connection) -> datetime:
    """Now, by the one clock, read inside the caller's transaction.

    PostgreSQL: the server's time (one round trip). SQLite: this host's clock.
    """
    if not uses_database_clock(connection.dialect):
        return utcnow()
    value = connection.execute(sa.select(sa.func.statement_timestamp())).scalar_one()
    return cast(datetime, value)
