"""The one clock: where every time that more than one host compares comes from.

Leases, heartbeats, rescue, stall and retention cut-offs, schedule checks and the
``created_at``/``updated_at``/``started_at``/``finished_at`` stamps are compared
between hosts. Hosts' clocks disagree (a drifting clock five minutes ahead would take
every live job for a dead one), so on PostgreSQL each of these times is the database
server's ``statement_timestamp()``: written into the statement where the statement can
compute it (the worker's hot path), or read in the same transaction just before it is
used (:func:`database_now`). SQLite is one machine: its times come from this host's
clock, always through :func:`~shisho_jobs.schema.utcnow`.

``statement_timestamp()`` rather than ``now()``: ``now()`` is the start of the
transaction, which can be long before the row is written when the transaction waited
for a lock (start-or-join waits for its scope's lock); and rather than
``clock_timestamp()``, which is volatile, so a comparison with it cannot use an index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.schema import utcnow

POSTGRES_NOW: Final = "statement_timestamp()"
"""The database's time, in PostgreSQL SQL."""


def uses_database_clock(dialect: sa.Dialect | str) -> bool:
    """Whether times come from the database (PostgreSQL) rather than this host (SQLite)."""
    name = dialect if isinstance(dialect, str) else dialect.name
    return name == "postgresql"


def database_now(connection: Connection) -> datetime:
    """Now, by the clock every host shares, inside the caller's transaction.

    PostgreSQL: the server's ``statement_timestamp()`` (one round trip). SQLite: this host's
    clock (:func:`~shisho_jobs.schema.utcnow`), the only clock its one machine has.
    """
    if not uses_database_clock(connection.dialect):
        return utcnow()
    value = connection.execute(sa.select(sa.func.statement_timestamp())).scalar_one()
    return cast(datetime, value)
