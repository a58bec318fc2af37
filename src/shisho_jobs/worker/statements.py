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

from dataclasses import dataclass
from typing import Final

import msgspec

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
_HAS_PENDING: Final = "SELECT id FROM jobs WHERE status = 'pending' LIMIT 1"

# The oldest pending job comes from the partial index of pending jobs, in its order.
# SQLite is told so: without statistics its planner prefers the (status, finished_at)
# index and sorts every pending row for each claim, which makes draining a queue of n
# jobs cost n² (INDEXED BY fails loudly instead of silently scanning if the index is
# ever missing). SQLite: one writer at a time, and the outer status guard keeps the
# claim atomic. PostgreSQL: the row is locked FOR UPDATE SKIP LOCKED and its status
# re-checked on the locked version, so the outer update matches on the key alone (with
# a status guard, a table without statistics yet made the planner walk every pending
# row by the status index to find that one id).
_CLAIM: Final = (
    "UPDATE jobs SET status = 'in_progress', process_id = ?, started_at = ?, heartbeat_at = ?,"
    " lease_expires_at = ?, attempt = attempt + 1, progress = 0, finished_at = NULL,"
    " error = NULL, updated_at = ?"
    " WHERE id = (SELECT id FROM jobs{indexed_by} WHERE status = 'pending'"
    " ORDER BY created_at, id LIMIT 1{lock}){guard}"
    f" RETURNING {_ALL}"
)
_PENDING_QUEUE_INDEX: Final = "ix_jobs_pending_queue"

_FINISH: Final = (
    "UPDATE jobs SET status = ?, progress = ?, error = ?, finished_at = ?,"
    f" lease_expires_at = NULL, updated_at = ? WHERE {FENCE} RETURNING {_ALL}"
)
# An interrupted run goes back to the queue; ``attempt`` stays, so the next claim
# increments it and this run's late writes stay fenced.
_REQUEUE: Final = (
    "UPDATE jobs SET status = 'pending', process_id = NULL, progress = 0, started_at = NULL,"
    f" heartbeat_at = NULL, lease_expires_at = NULL, updated_at = ? WHERE {FENCE}"
    f" RETURNING {_ALL}"
)
_HEARTBEAT: Final = (
    f"UPDATE jobs SET heartbeat_at = ?, lease_expires_at = ? WHERE {FENCE}"
    " RETURNING cancel_requested"
)
_PROGRESS: Final = (
    "UPDATE jobs SET progress = ?, updated_at = ?, heartbeat_at = ?, lease_expires_at = ?"
    f" WHERE {FENCE} AND progress <> ? RETURNING {_ALL}"
)
_OWNED: Final = f"SELECT {_ALL} FROM jobs WHERE {FENCE}"
_LOG_COLUMNS: Final = "created_at, job_id, level, message, plugin, data, stack_trace"
# INSERT ... SELECT from the fenced job row: checked and written in one statement.
_FENCED_LOG: Final = (
    f"INSERT INTO job_logs ({_LOG_COLUMNS})"
    " SELECT {timestamp}, id, {text}, {text}, {text}, {text}, {text}"
    f" FROM jobs WHERE {FENCE} RETURNING id"
)
_LOG: Final = f"INSERT INTO job_logs ({_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"

# A job set in_progress without a lease (by hand, or by an old version) has no owner
# either: it expires one lease length after its last update.
_EXPIRED_WHERE: Final = (
    f"status = '{_IN_PROGRESS}' AND (lease_expires_at < ?"
    " OR (lease_expires_at IS NULL AND updated_at < ?))"
)
_ANY_EXPIRED: Final = f"SELECT id FROM jobs WHERE {_EXPIRED_WHERE} LIMIT 1"
_EXPIRED: Final = (
    f"SELECT id, attempt, crash_count, process_id FROM jobs WHERE {_EXPIRED_WHERE}"
    " ORDER BY id{lock}"
)
# Rescue has no owner to fence by (the owner is gone, or was never recorded): the row is
# locked (PostgreSQL) or the database is (SQLite), and the guard checks it did not change.
_UNCHANGED: Final = f"id = ? AND attempt = ? AND status = '{_IN_PROGRESS}'"
_RESCUE_REQUEUE: Final = (
    "UPDATE jobs SET status = 'pending', process_id = NULL, progress = 0, started_at = NULL,"
    " crash_count = ?, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = ?"
    f" WHERE {_UNCHANGED} RETURNING {_ALL}"
)
_RESCUE_FAIL: Final = (
    "UPDATE jobs SET status = 'failed', error = ?, finished_at = ?,"
    " crash_count = ?, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = ?"
    f" WHERE {_UNCHANGED} RETURNING {_ALL}"
)
_LAST_GLOBAL_CREATED: Final = (
    "SELECT created_at FROM jobs WHERE type = ? AND library_id IS NULL"
    " ORDER BY created_at DESC LIMIT 1"
)


@dataclass(frozen=True)
class WorkerStatements:
    """The worker's statements in one driver's parameter style."""

    has_pending: str
    """Any pending job? (a read, so idle polling takes no write lock)."""
    claim: str
    """Claim the oldest pending job: ``(process_id, started, heartbeat, expires, updated)``."""
    finish: str
    """Write a run's outcome: ``(status, progress, error, finished, updated, *fence)``."""
    requeue: str
    """Hand a run back to the queue: ``(updated, *fence)``."""
    heartbeat: str
    """Extend a lease: ``(heartbeat, expires, *fence)``; returns ``cancel_requested``."""
    progress: str
    """Save progress: ``(percent, updated, heartbeat, expires, *fence, percent)``."""
    owned: str
    """The job while this run owns it: ``(*fence)``."""
    fenced_log: str
    """A log line while this run owns the job: ``(created, level, message, plugin, data,
    stack_trace, *fence)``."""
    log: str
    """A log line of any job: ``(created, job_id, level, message, plugin, data, stack_trace)``."""
    any_expired: str
    """Has any lease expired? ``(now, now - lease)`` (a read: rescue rarely has work)."""
    expired: str
    """Jobs whose lease expired, locked: ``(now, now - lease)``."""
    rescue_requeue: str
    """Re-queue a lost job: ``(crash_count, updated, job_id, attempt)``."""
    rescue_fail: str
    """Fail a lost job: ``(error, finished, crash_count, updated, job_id, attempt)``."""
    last_global_created: str
    """When the newest global job of a type was created: ``(type,)``."""

    @classmethod
    def of(cls, dialect: str) -> WorkerStatements:
        """The statements for ``dialect`` (``sqlite`` or ``postgresql``)."""
        postgres = dialect == "postgresql"
        claim = _CLAIM.format(
            indexed_by="" if postgres else f" INDEXED BY {_PENDING_QUEUE_INDEX}",
            lock=" FOR UPDATE SKIP LOCKED" if postgres else "",
            guard="" if postgres else " AND status = 'pending'",
        )
        # INSERT ... SELECT gives PostgreSQL no column to infer the parameters' types from.
        fenced_log = _FENCED_LOG.format(
            timestamp="?::timestamptz" if postgres else "?",
            text="?::text" if postgres else "?",
        )
        expired = _EXPIRED.format(lock=" FOR UPDATE SKIP LOCKED" if postgres else "")
        texts = {
            "has_pending": _HAS_PENDING,
            "claim": claim,
            "finish": _FINISH,
            "requeue": _REQUEUE,
            "heartbeat": _HEARTBEAT,
            "progress": _PROGRESS,
            "owned": _OWNED,
            "fenced_log": fenced_log,
            "log": _LOG,
            "any_expired": _ANY_EXPIRED,
            "expired": expired,
            "rescue_requeue": _RESCUE_REQUEUE,
            "rescue_fail": _RESCUE_FAIL,
            "last_global_created": _LAST_GLOBAL_CREATED,
        }
        if postgres:
            # Written with qmark placeholders (sqlite3); psycopg takes %s.
            texts = {name: sql.replace("?", "%s") for name, sql in texts.items()}
        return cls(**texts)
