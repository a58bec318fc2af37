"""The time for statements that compare it with times written on other hosts.

Hosts' clocks disagree. Wherever one host judges a time another host wrote (a
worker's expiry, a job's last progress, a run's start against its hard limit),
both the written time and "now" come from the database's clock on PostgreSQL.
SQLite lives on one host, whose clock is the only one: Python's time is used,
stored the way :class:`~shisho_jobs.schema.UTCDateTime` stores it.

Build the expressions for each statement (on SQLite they hold the time of the call).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from shisho_jobs.schema import UTCDateTime, utcnow


def database_now(dialect: str) -> sa.ColumnElement[datetime]:
    """The current time: ``now()`` on PostgreSQL, this host's clock on SQLite."""
    if dialect == "postgresql":
        return sa.func.now(type_=UTCDateTime())
    return sa.literal(utcnow(), UTCDateTime())


def database_time_from_now(dialect: str, seconds: float) -> sa.ColumnElement[datetime]:
    """The current time plus ``seconds`` (negative: in the past), on the database's clock."""
    if dialect == "postgresql":
        shift = sa.literal(timedelta(seconds=seconds), sa.Interval())
        return sa.type_coerce(sa.func.now() + shift, UTCDateTime())
    return sa.literal(utcnow() + timedelta(seconds=seconds), UTCDateTime())
