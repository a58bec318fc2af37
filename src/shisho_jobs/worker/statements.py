"""Every SQL statement the worker runs, as driver SQL, and the one definition of the fence.

A claim sets ``process_id`` and increments ``attempt``; every later write of that run is
*fenced* by :data:`FENCE`: it only matches while the job is still ``in_progress`` with
the same ``process_id`` and ``attempt``. A worker that was presumed dead and whose job
was rescued (and maybe claimed again) therefore writes nothing: its writes match no row.

The statements are written once with ``?`` placeholders (sqlite3's style) and turned into
psycopg's ``%s`` for PostgreSQL by :meth:`WorkerStatements.of`. They run on the driver's
own cursor (:class:`~shisho_jobs.worker.store.WorkerStore`): through SQLAlchemy each
statement costs more Python time than SQLite takes to run it, and the worker runs a few
of them per job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from shisho_jobs.clock import POSTGRES_NOW
from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus

JOB_COLUMNS: Final = tuple(field.name for field in msgspec.structs.fields(Job))
"""The ``jobs`` columns a :class:`~shisho_jobs.dto.Job` shows, in its field order: what every
``RETURNING``/``SELECT`` of a job reads (the lease columns stay in the database)."""
_ALL: Final = ", ".join(JOB_COLUMNS)

_IN_PROGRESS: Final = JobStatus.IN_PROGRESS.value

FENCE: Final = f"id = ? AND process_id = ? AND attempt = ? AND status = '{_IN_PROGRESS}'"
"""This run still owns the job. Parameters: ``(job_id, process_id, attempt)``."""

# The status tests are literal text so that SQLite matches them to the partial indexes
# (a bound parameter never matches a literal).
_HAS_PENDING: Final = "SELECT id FROM jobs WHERE status = 'pending'{types} LIMIT 1"

# The oldest pending job comes from the partial index of pending jobs, in its order.
# SQLite is told so: without statistics its planner prefers the (status, finished_at)
# index and sorts every pending row for each claim, which makes draining a queue of n
# jobs cost n² (INDEXED BY fails loudly instead of silently scanning if the index is
# ever missing). SQLite: one writer at a time, and the outer status guard keeps the
# claim atomic. PostgreSQL: the row is locked FOR UPDATE SKIP LOCKED and its status
# re-checked on the locked version, so the outer update matches on the key alone (with
# a status guard, a table without statistics yet made the planner walk every pending
# row by the status index to find that one id).
# A worker claims only job types it can run: a job of another type waits (and says so,
# see shisho_jobs.workers) for a worker that can. The claim is the job's first progress.
_CLAIM: Final = (
    "UPDATE jobs SET status = 'in_progress', process_id = ?, started_at = {now},"
    " heartbeat_at = {now}, lease_expires_at = {shifted}, attempt = attempt + 1, progress = 0,"
    " finished_at = NULL, error = NULL, updated_at = {now}, last_progress_at = {now},"
    " stalled_since = NULL, waiting = NULL"
    " WHERE id = (SELECT id FROM jobs{indexed_by} WHERE status = 'pending'{types}"
    " ORDER BY id LIMIT 1{lock}){guard}"
    f" RETURNING {_ALL}"
)
_PENDING_QUEUE_INDEX: Final = "ix_jobs_pending_queue"

# ``retry_at``: when an automatic retry is due (``{shifted}`` of its delay), or NULL.
_FINISH: Final = (
    "UPDATE jobs SET status = ?, progress = ?, error = ?, result = ?, retry_at = {shifted},"
    " finished_at = {now}, lease_expires_at = NULL, updated_at = {now}"
    f" WHERE {FENCE} RETURNING {_ALL}"
)
# An interrupted run goes back to the queue; ``attempt`` stays, so the next claim
# increments it and this run's late writes stay fenced. One that someone asked to
# cancel ends cancelled instead: it must not run again.
_REQUEUE: Final = (
    "UPDATE jobs SET"
    " status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,"
    " finished_at = CASE WHEN cancel_requested THEN {now} ELSE NULL END,"
    " process_id = CASE WHEN cancel_requested THEN process_id ELSE NULL END,"
    " progress = CASE WHEN cancel_requested THEN progress ELSE 0 END,"
    " started_at = CASE WHEN cancel_requested THEN started_at ELSE NULL END,"
    f" heartbeat_at = NULL, lease_expires_at = NULL, updated_at = {{now}} WHERE {FENCE}"
    f" RETURNING {_ALL}"
)
_OWNED_CANCEL_REQUESTED: Final = f"SELECT cancel_requested FROM jobs WHERE {FENCE}{{lock}}"
_CANCEL_REQUESTED: Final = (
    f"SELECT id FROM jobs WHERE status = '{_IN_PROGRESS}' AND cancel_requested AND id IN ({{ids}})"
)
_HEARTBEAT: Final = (
    f"UPDATE jobs SET heartbeat_at = {{now}}, lease_expires_at = {{shifted}} WHERE {FENCE}"
    " RETURNING cancel_requested"
)
# Progress is the sign that the work moves (a heartbeat is not): it clears a stall. The
# tracker decides when a write is worth it (a new percent, or work that moved within one).
_PROGRESS: Final = (
    "UPDATE jobs SET progress = ?, updated_at = {now}, heartbeat_at = {now},"
    " lease_expires_at = {shifted}, last_progress_at = {now}, stalled_since = NULL"
    f" WHERE {FENCE} RETURNING {_ALL}"
)
_OWNED: Final = f"SELECT {_ALL} FROM jobs WHERE {FENCE}"
_HOLD: Final = f"SELECT id FROM jobs WHERE {FENCE}{{lock}}"
_LOG_COLUMNS: Final = "created_at, job_id, level, message, plugin, data, stack_trace, library_id"
# INSERT ... SELECT from the fenced job row: checked and written in one statement.
_FENCED_LOG: Final = (
    f"INSERT INTO job_logs ({_LOG_COLUMNS})"
    " SELECT {now}, id, {text}, {text}, {text}, {text}, {text}, {integer}"
    f" FROM jobs WHERE {FENCE} RETURNING id"
)
_LOG: Final = f"INSERT INTO job_logs ({_LOG_COLUMNS}) VALUES ({{now}}, ?, ?, ?, ?, ?, ?, ?)"

# A job set in_progress without a lease (by hand, or by an old version) has no owner
# either: it expires one lease length after its last update.
_EXPIRED_WHERE: Final = (
    f"status = '{_IN_PROGRESS}' AND (lease_expires_at < {{now}}"
    " OR (lease_expires_at IS NULL AND updated_at < {shifted}))"
)
_ANY_EXPIRED: Final = f"SELECT id FROM jobs WHERE {_EXPIRED_WHERE} LIMIT 1"
_EXPIRED: Final = (
    "SELECT id, attempt, crash_count, process_id, cancel_requested FROM jobs"
    f" WHERE {_EXPIRED_WHERE} ORDER BY id{{lock}}"
)
# Rescue has no owner to fence by (the owner is gone, or was never recorded): the row is
# locked (PostgreSQL) or the database is (SQLite), and the guard checks it did not change.
_UNCHANGED: Final = f"id = ? AND attempt = ? AND status = '{_IN_PROGRESS}'"
_RESCUE_REQUEUE: Final = (
    "UPDATE jobs SET status = 'pending', process_id = NULL, progress = 0, started_at = NULL,"
    " crash_count = ?, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = {now}"
    f" WHERE {_UNCHANGED} RETURNING {_ALL}"
)
# A lost job someone asked to cancel is not run again: it ends cancelled.
_RESCUE_CANCEL: Final = (
    "UPDATE jobs SET status = 'cancelled', finished_at = {now},"
    " crash_count = ?, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = {now}"
    f" WHERE {_UNCHANGED} RETURNING {_ALL}"
)
_RESCUE_FAIL: Final = (
    "UPDATE jobs SET status = 'failed', error = ?, finished_at = {now},"
    " crash_count = ?, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = {now}"
    f" WHERE {_UNCHANGED} RETURNING {_ALL}"
)
# Times (see shisho_jobs.clock): ``{now}`` is the current time; ``{shifted}`` is the
# current time plus a number of seconds, its one parameter (a lease ahead, or one ago).
# PostgreSQL computes both in the statement, from the database's clock; SQLite takes
# them as parameters, computed once per call from this host's clock.
_DATABASE_TIMES: Final = {
    "now": POSTGRES_NOW,
    "shifted": f"({POSTGRES_NOW} + make_interval(secs => ?::float8))",
}
_HOST_TIMES: Final = {"now": "?", "shifted": "?"}
_LATER: Final = {"now": "{now}", "shifted": "{shifted}"}
"""Keeps the time placeholders through the first ``format`` (filled in last)."""

# The watcher's look at a scan it may join, and its paths merged into a scan that has not
# started: the row is locked (PostgreSQL) or the database is (SQLite) between the two,
# and the pending guard lets a claim in between win.
_JOB_STATE: Final = "SELECT status, data, created_at{read_now} FROM jobs WHERE id = ?{lock}"
_PENDING_DATA: Final = (
    f"UPDATE jobs SET data = ?, updated_at = {{now}} WHERE id = ? AND status = 'pending'"
    f" RETURNING {_ALL}"
)


@dataclass(frozen=True)
class WorkerStatements:
    """The worker's statements in one driver's parameter style."""

    has_pending: str
    """Any pending job this worker can run? (a read, so idle polling takes no write lock)."""
    claim: str
    """Claim the oldest pending job: ``(process_id, *now, *now, *lease, *now, *now)``."""
    finish: str
    """Write a run's outcome: ``(status, progress, error, result, *retry, *now, *now,
    *fence)``; ``*retry``: the shifted time of an automatic retry, or ``None``."""
    requeue: str
    """Hand a run back to the queue (cancelled if asked for): ``(*now, *now, *fence)``."""
    owned_cancel_requested: str
    """Whether a cancel was asked for the job this run owns, locked: ``(*fence)``."""
    cancel_requested: str
    """Which of these running jobs were asked to cancel: ``{ids}`` to fill with ``?``s."""
    heartbeat: str
    """Extend a lease: ``(*now, *lease, *fence)``; returns ``cancel_requested``."""
    progress: str
    """Save progress: ``(percent, *now, *now, *lease, *now, *fence)``."""
    owned: str
    """The job while this run owns it: ``(*fence)``."""
    hold: str
    """The job's id while this run owns it, the row share-locked on PostgreSQL: ``(*fence)``."""
    fenced_log: str
    """A log line while this run owns the job: ``(*now, level, message, plugin, data,
    stack_trace, library_id, *fence)``."""
    log: str
    """A log line of any job: ``(*now, job_id, level, message, plugin, data, stack_trace,
    library_id)``."""
    any_expired: str
    """Has any lease expired? ``(*now, *lease_ago)`` (a read: rescue rarely has work)."""
    expired: str
    """Jobs whose lease expired, locked: ``(*now, *lease_ago)``."""
    rescue_requeue: str
    """Re-queue a lost job: ``(crash_count, *now, job_id, attempt)``."""
    rescue_cancel: str
    """Cancel a lost job a cancel was asked for: ``(*now, crash_count, *now, job_id,
    attempt)``."""
    rescue_fail: str
    """Fail a lost job: ``(error, *now, crash_count, *now, job_id, attempt)``."""
    job_state: str
    """A job's status, data and creation time (and the database's time on PostgreSQL):
    ``(job_id,)``."""
    job_state_locked: str
    """:attr:`job_state`, the row locked for an update: ``(job_id,)``."""
    pending_data: str
    """Rewrite a still-pending job's data: ``(data, *now, job_id)``."""

    @classmethod
    def of(cls, dialect: str, job_types: Sequence[str] | None = None) -> WorkerStatements:
        """The statements for ``dialect``.

        Args:
            dialect: ``sqlite`` or ``postgresql``.
            job_types: the job types the worker runs; it claims no others (``None``: any).
        """
        postgres = dialect == "postgresql"
        types = "" if job_types is None else f" AND type IN ({_sql_strings(job_types)})"
        claim = _CLAIM.format(
            types=types,
            indexed_by="" if postgres else f" INDEXED BY {_PENDING_QUEUE_INDEX}",
            lock=" FOR UPDATE SKIP LOCKED" if postgres else "",
            guard="" if postgres else " AND status = 'pending'",
            **_LATER,
        )
        # INSERT ... SELECT gives PostgreSQL no column to infer the parameters' types from.
        fenced_log = _FENCED_LOG.format(
            text="?::text" if postgres else "?",
            integer="?::integer" if postgres else "?",
            **_LATER,
        )
        expired = _EXPIRED.format(lock=" FOR UPDATE SKIP LOCKED" if postgres else "", **_LATER)
        # One clock for every host: PostgreSQL's. SQLite lives on one host.
        read_now = f", {POSTGRES_NOW}" if postgres else ""
        texts = {
            "has_pending": _HAS_PENDING.format(types=types),
            "claim": claim,
            "finish": _FINISH,
            "requeue": _REQUEUE,
            "owned_cancel_requested": _OWNED_CANCEL_REQUESTED.format(
                lock=" FOR UPDATE" if postgres else ""
            ),
            "heartbeat": _HEARTBEAT,
            "progress": _PROGRESS,
            "owned": _OWNED,
            "hold": _HOLD.format(lock=" FOR SHARE" if postgres else ""),
            "fenced_log": fenced_log,
            "log": _LOG,
            "any_expired": _ANY_EXPIRED,
            "expired": expired,
            "rescue_requeue": _RESCUE_REQUEUE,
            "rescue_cancel": _RESCUE_CANCEL,
            "rescue_fail": _RESCUE_FAIL,
            "job_state": _JOB_STATE.format(read_now=read_now, lock=""),
            "job_state_locked": _JOB_STATE.format(
                read_now=read_now, lock=" FOR UPDATE" if postgres else ""
            ),
            "pending_data": _PENDING_DATA,
        }
        times = _DATABASE_TIMES if postgres else _HOST_TIMES
        texts = {name: sql.format(**times) for name, sql in texts.items()}
        # Filled with one placeholder per id at the call, so kept out of the times' format.
        texts["cancel_requested"] = _CANCEL_REQUESTED
        if postgres:
            # Written with qmark placeholders (sqlite3); psycopg takes %s.
            texts = {name: sql.replace("?", "%s") for name, sql in texts.items()}
        return cls(**texts)


def _sql_strings(values: Sequence[str]) -> str:
    """SQL string literals of ``values`` (job type names, from the registry), quotes doubled."""
    if not values:
        return "NULL"  # ``type IN (NULL)`` matches nothing: a worker that runs no type
    return ", ".join("'" + value.replace("'", "''") + "'" for value in sorted(values))
