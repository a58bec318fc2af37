"""What a reader may see of the jobs: the one definition, used for lists, single jobs, log
lines, events, 409 bodies and the host's pages (CONTRACT section 4, the visibility rule).

A reader may see the jobs of the libraries it may access (``None``: every library) and
every global job (``library_id IS NULL``: a global job is about all libraries, so it is
visible to all). A reader may narrow that further to one library and the global jobs
("this library or global").

A reader who may not access every library sees less of what it may see
(:func:`shown_job`, :func:`shown_log`): a global job without what it says about the
libraries together (its ``error``, ``result`` and ``warnings``), log lines only when they
are about no library or one the reader may access (a line's ``library_id``,
:data:`ALL_LIBRARIES` for a line about all of them at once), and nothing that tells where
things run or are kept: no ``process_id`` (it names the host), no stack traces, and
absolute server paths shortened to their last part (:func:`redact_paths`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from shisho_jobs.dto import Job, JobLog
from shisho_jobs.workers import WorkerInfo

Column = sa.ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column holding a job's library (Core or ORM)."""

ALL_LIBRARIES: Final = 0
"""The ``library_id`` of a log line about every library at once (a global job's failure,
which names the libraries that failed): only readers of every library receive it. No
library has this id, so the line matches no reader's list of libraries."""

GLOBAL_DETAILS_HIDDEN: Final = (
    "The job failed. The details concern every library, so only users with access to every "
    "library see them; its log lines about your libraries say what happened there."
)
"""The ``error`` of a failed global job, as a reader of only some libraries sees it."""

GLOBAL_DETAIL_FIELDS: Final = ("result", "warnings")
"""Fields of a global job that sum up every library's work; left out for readers of only
some libraries (``error`` becomes :data:`GLOBAL_DETAILS_HIDDEN`)."""

HIDDEN_LOG_DATA_KEYS: Final = frozenset({"process_id"})
"""Keys of a log line's ``data`` that only readers of every library receive (a worker's
name carries its host's)."""

_ABSOLUTE_PATH: Final = re.compile(
    # A POSIX path from the root ("/srv/books/a.epub"), not a fraction or "and/or", or a
    # Windows one ("C:\\books"); up to the next blank, quote or bracket.
    r"(?<![\w.~/-])(?:/|[A-Za-z]:\\)[^\s'\"<>()\[\]{},;]*"
)


def can_see(visible_library_ids: Collection[int] | None, library_id: int | None) -> bool:
    """Whether a reader limited to ``visible_library_ids`` may see a job of ``library_id``.

    Args:
        visible_library_ids: the libraries the reader may access; ``None`` means all.
        library_id: the job's library; ``None`` for a global job, which everyone sees.
    """
    return library_id is None or visible_library_ids is None or library_id in visible_library_ids


def sees_every_library(visible_library_ids: Collection[int] | None) -> bool:
    """Whether a reader limited to ``visible_library_ids`` may access every library."""
    return visible_library_ids is None


def visible_condition(
    column: Column,
    visible_library_ids: Collection[int] | sa.BindParameter[Any],
    *,
    global_key: int | None = None,
) -> sa.ColumnElement[bool]:
    """:func:`can_see` as one SQL condition on a library column.

    Args:
        column: the column holding a job's library.
        visible_library_ids: the libraries, or an expanding bind parameter that will hold
            them (for statements built once and run with new values).
        global_key: the value that column holds for a global job (``None``: SQL NULL;
            ``job_scope_counts.library_key`` uses 0).
    """
    is_global = column.is_(None) if global_key is None else column == global_key
    ids = (
        visible_library_ids
        if isinstance(visible_library_ids, sa.BindParameter)
        else sorted(visible_library_ids)
    )
    return sa.or_(is_global, column.in_(ids))


def visible_sql(
    column: Column, visible_library_ids: Collection[int] | None
) -> list[sa.ColumnElement[bool]]:
    """:func:`can_see` as SQL conditions on a ``library_id`` column (none: no restriction)."""
    if visible_library_ids is None:
        return []
    return [visible_condition(column, visible_library_ids)]


@dataclass(frozen=True)
class Visibility:
    """What one reader (an event stream, a snapshot) may receive.

    Hashable, so it can be part of a cache key.
    """

    visible_library_ids: frozenset[int] | None = None
    """Libraries the reader may access (``None``: all). Global jobs are visible to everyone."""
    library_id: int | None = None
    """Only this library's jobs and global jobs (``None``: every visible job)."""

    @classmethod
    def of(
        cls, visible_library_ids: Collection[int] | None, library_id: int | None = None
    ) -> Visibility:
        """A visibility from any collection of library ids."""
        ids = None if visible_library_ids is None else frozenset(visible_library_ids)
        return cls(visible_library_ids=ids, library_id=library_id)

    def matches(self, library_id: int | None) -> bool:
        """Whether a job (or an event about a job) of ``library_id`` passes."""
        if library_id is None:
            return True
        if not can_see(self.visible_library_ids, library_id):
            return False
        return self.library_id is None or self.library_id == library_id

    def sql(self, column: Column) -> list[sa.ColumnElement[bool]]:
        """The same rule as SQL conditions on a ``library_id`` column."""
        conditions = visible_sql(column, self.visible_library_ids)
        if self.library_id is not None:
            conditions.append(sa.or_(column.is_(None), column == self.library_id))
        return conditions

    @property
    def sees_every_library(self) -> bool:
        """Whether the reader may access every library (and so receives everything)."""
        return self.visible_library_ids is None


EVERYTHING = Visibility()
"""A reader that may see every job (the worker, the command line)."""


# --- what a reader of only some libraries receives of what it may see ------------------------


def redact_paths(text: str) -> str:
    """``text`` with every absolute server path shortened to ``…/`` and its last part.

    ``"Library folder /srv/var/libraries/broken is missing"`` becomes
    ``"Library folder …/broken is missing"``: the reader learns which folder, not where
    the server keeps it.
    """
    return _ABSOLUTE_PATH.sub(_shorten_path, text)


def _shorten_path(match: re.Match[str]) -> str:
    path = match.group(0).rstrip("/\\.:")
    last = re.split(r"[/\\]", path)[-1] if path else ""
    return f"…/{last}" + match.group(0)[len(path) :] if last else "…"


def shown_job(job: Job, visible_library_ids: Collection[int] | None) -> Job:
    """``job`` as a reader limited to ``visible_library_ids`` receives it (the reader may
    see the job: check that first with :func:`can_see`)."""
    if sees_every_library(visible_library_ids):
        return job
    changes: dict[str, Any] = {}
    if job.process_id is not None:
        changes["process_id"] = None
    if job.library_id is None:
        if job.error is not None:
            changes["error"] = GLOBAL_DETAILS_HIDDEN
        fields = msgspec.structs.fields(job)
        for field in fields:
            if field.name in GLOBAL_DETAIL_FIELDS and getattr(job, field.name) != field.default:
                changes[field.name] = field.default
    elif job.error is not None:
        changes["error"] = redact_paths(job.error)
    return msgspec.structs.replace(job, **changes) if changes else job


def shown_job_json(job_json: str, visible_library_ids: Collection[int] | None) -> str:
    """:func:`shown_job` of a Job already encoded as JSON (an outbox event's)."""
    if sees_every_library(visible_library_ids):
        return job_json
    job = msgspec.json.decode(job_json, type=Job)
    return msgspec.json.encode(shown_job(job, visible_library_ids)).decode()


def log_visible(visible_library_ids: Collection[int] | None, library_id: int | None) -> bool:
    """Whether a reader may receive a log line about ``library_id`` of a job it may see.

    A line about no library (``None``) goes to every reader of its job; a line about one
    library only to its readers; a line about :data:`ALL_LIBRARIES` only to readers of
    every library.
    """
    return library_id is None or (visible_library_ids is None or library_id in visible_library_ids)


def log_visible_sql(
    column: Column, visible_library_ids: Collection[int] | None
) -> list[sa.ColumnElement[bool]]:
    """:func:`log_visible` as SQL conditions on ``job_logs.library_id``."""
    return visible_sql(column, visible_library_ids)


def shown_log(log: JobLog, visible_library_ids: Collection[int] | None) -> JobLog:
    """``log`` as a reader limited to ``visible_library_ids`` receives it: without its stack
    trace, server paths shortened (check :func:`log_visible` first)."""
    if sees_every_library(visible_library_ids):
        return log
    return msgspec.structs.replace(
        log,
        message=redact_paths(log.message),
        data=None if log.data is None else _redacted_data(log.data),
        stack_trace=None,
    )


def _redacted_data(value: Any) -> Any:
    if isinstance(value, str):
        return redact_paths(value)
    if isinstance(value, dict):
        return {
            key: _redacted_data(item)
            for key, item in value.items()
            if key not in HIDDEN_LOG_DATA_KEYS
        }
    if isinstance(value, list):
        return [_redacted_data(item) for item in value]
    return value


def shown_worker(worker: WorkerInfo, visible_library_ids: Collection[int] | None) -> WorkerInfo:
    """``worker`` as a reader limited to ``visible_library_ids`` receives it: without its
    name, host and pid, which name a server (as ``process_id`` does on jobs)."""
    if sees_every_library(visible_library_ids):
        return worker
    return msgspec.structs.replace(worker, id="", host="", pid=0)
