"""How far a PostgreSQL reader of the outbox may read without ever missing an event.

Writers draw event ids from the ``job_events`` sequence without any lock, so ids can
become visible out of order: event 12 may have committed while the transaction that drew
11 is still running. A reader that took 12 and moved its cursor past 11 would never see
11. So readers read only up to a *settled* id, one below which every transaction that drew
an id has ended (committed or rolled back).

An id becomes settled by a *seal*, which needs no clock and no lock:

1. One autocommit statement reads the sequence's last drawn id ``Q`` and then takes a fresh
   transaction id ``r`` (a materialised CTE reads ``Q`` first). Every writer takes its own
   transaction id before it draws its event id (:data:`shisho_jobs.outbox.EVENT_INSERT_SQL`),
   and PostgreSQL hands out transaction ids in increasing order, so every writer that drew
   an id up to ``Q`` holds a transaction id below ``r``.
2. Once a later statement's snapshot has ``pg_snapshot_xmin`` at or above ``r`` (every
   transaction below ``r`` has ended), every id up to ``Q`` that will ever exist is visible
   to that statement: ``Q`` is settled, and the statement reads up to it.

The price: a write transaction left open anywhere on the server holds the horizon back
(delays events; never reorders or loses one), and each seal uses one transaction id.

The sequence must keep PostgreSQL's default ``CACHE 1``: with a per-session cache, a session
would hand out, after a seal, ids it had reserved before it (at or below ``Q``) from a
transaction that took its id after ``r``, and the seal would not wait for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shisho_jobs.errors import OutboxNotSettled, OutboxSequenceCached

SETTLE_TIMEOUT: Final = 5.0
"""Seconds :meth:`Horizon.settled_latest` waits for the transactions that hold it back."""

_SEAL_SQL: Final = sa.text(
    "WITH drawn AS MATERIALIZED (SELECT coalesce(pg_sequence_last_value("
    "pg_get_serial_sequence('job_events', 'id')::regclass), 0) AS last_id) "
    "SELECT drawn.last_id, pg_current_xact_id()::text FROM drawn"
)
_SEQUENCE_CACHE_SQL: Final = sa.text(
    "SELECT seqcache FROM pg_sequence"
    " WHERE seqrelid = pg_get_serial_sequence('job_events', 'id')::regclass"
)
# Every transaction below the seal's own has ended, as this statement's snapshot sees it.
_PASSED: Final = "pg_snapshot_xmin(pg_current_snapshot()) >= CAST(:sealed_by AS xid8)"
_PASSED_SQL: Final = sa.text(f"SELECT {_PASSED}")
# The same snapshot decides whether the seal has settled and reads the events, so whatever
# it reads is complete up to the bound it reads to. LEFT JOIN: one row even with no event.
# `newest`: the newest id committed so far, settled or not (a change has happened).
_SETTLED_READ_SQL: Final = sa.text(
    f"WITH horizon AS MATERIALIZED (SELECT {_PASSED} AS passed,"
    " (SELECT max(id) FROM job_events) AS newest) "
    "SELECT horizon.passed, horizon.newest, e.id, e.event, e.library_id, e.job_json"
    " FROM horizon "
    "LEFT JOIN LATERAL (SELECT id, event, library_id, job_json FROM job_events"
    " WHERE id > :after_id"
    " AND id <= CASE WHEN horizon.passed THEN :sealed_id ELSE :settled_id END"
    " ORDER BY id LIMIT :limit) AS e ON true "
    "ORDER BY e.id"
)

EventTuple = tuple[int, str, int | None, str]
"""``(id, event, library_id, job_json)`` of one outbox row."""


@dataclass(frozen=True)
class _Seal:
    sealed_id: int
    """The last id drawn when the seal was taken."""
    sealed_by: str
    """The seal's own transaction id (``xid8`` as text)."""


@dataclass(frozen=True)
class SettledRead:
    """Events read up to the horizon."""

    rows: list[EventTuple]
    held_back: bool
    """Events may be waiting behind transactions still running: read again soon."""
    newest_committed: int
    """The newest event id committed when the read was made (0: none), possibly above the
    events read: a change has happened, even if its event cannot be read yet."""


class Horizon:
    """One reader's settled id on PostgreSQL (the event hub keeps one for its life).

    Not thread-safe: one reader uses it at a time.
    """

    def __init__(self) -> None:
        self.settled_id = 0
        """Every event up to this id that will ever exist is visible."""
        self._pending: _Seal | None = None
        self._sequence_checked = False

    def read(self, connection: Connection, after_id: int, *, limit: int) -> SettledRead:
        """Events above ``after_id`` up to the settled id, oldest first, at most ``limit``.

        Takes a new seal unless one is still pending, then reads: two statements, each its
        own transaction (``connection`` must be in autocommit).
        """
        seal = self._pending or self._seal(connection)
        result = connection.execute(
            _SETTLED_READ_SQL,
            {
                "sealed_by": seal.sealed_by,
                "after_id": after_id,
                "sealed_id": seal.sealed_id,
                "settled_id": self.settled_id,
                "limit": limit,
            },
        ).all()
        passed, newest = bool(result[0][0]), int(result[0][1] or 0)
        if passed:
            self._settle(seal)
        else:
            self._pending = seal
        rows: list[EventTuple] = [
            (row[2], row[3], row[4], row[5]) for row in result if row[2] is not None
        ]
        return SettledRead(rows=rows, held_back=not passed, newest_committed=newest)

    def settled_latest(self, connection: Connection, *, timeout: float = SETTLE_TIMEOUT) -> int:
        """The newest settled id, waiting up to ``timeout`` seconds for it to settle.

        Raises:
            OutboxNotSettled: a transaction begun before the seal is still running after
                ``timeout`` (the plugin answers 503: try again).
        """
        seal = self._seal(connection)
        deadline = time.monotonic() + timeout
        delay = 0.005
        while not connection.scalar(_PASSED_SQL, {"sealed_by": seal.sealed_by}):
            if time.monotonic() >= deadline:
                raise OutboxNotSettled(timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        self._settle(seal)
        return seal.sealed_id

    def _seal(self, connection: Connection) -> _Seal:
        if not self._sequence_checked:
            cache = int(connection.scalar(_SEQUENCE_CACHE_SQL) or 1)
            if cache != 1:
                raise OutboxSequenceCached(cache)
            self._sequence_checked = True
        sealed_id, sealed_by = connection.execute(_SEAL_SQL).one()
        return _Seal(sealed_id=int(sealed_id), sealed_by=str(sealed_by))

    def _settle(self, seal: _Seal) -> None:
        self.settled_id = max(self.settled_id, seal.sealed_id)
        self._pending = None
