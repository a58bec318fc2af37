"""The service's read statements, built once per shape with bound parameters.

Building a SQLAlchemy statement costs more than SQLite takes to answer it from
an index, so each shape of query (which filters are present) is built once and
then only executed with new parameter values.

Totals come from ``job_scope_counts`` (kept by triggers) unless the filters
ask about statuses or workers, which those counts do not keep apart.

Newest first means ``created_at DESC, id DESC``. "This library or global" is
two index range scans, one per arm, each stopping after ``window`` rows, merged
at the end; a single ``library_id = X OR library_id IS NULL`` would make the
database collect and sort the scope's whole history.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import msgspec
import sqlalchemy as sa

from shisho_jobs.enums import ACTIVE_STATUS_SQL
from shisho_jobs.filters import ListJobsFilter
from shisho_jobs.schema import JobRow, JobScopeCountRow
from shisho_jobs.scope_counts import GLOBAL_LIBRARY_KEY
from shisho_jobs.visibility import visible_condition

counts: Final = JobScopeCountRow.__table__
"""Jobs per (type, library), kept by triggers; ``library_key`` 0 counts global jobs."""
jobs: Final = JobRow.__table__
"""The ``jobs`` table as a Core table: rows come back as plain tuples, no ORM identity map."""

_NEWEST_FIRST: Final = (jobs.c.created_at.desc(), jobs.c.id.desc())


def _param(name: str, **kwargs: Any) -> sa.BindParameter[Any]:
    return sa.bindparam(name, **kwargs)


def _active_statement(*, scoped: bool) -> sa.Select[Any]:
    # The status test is literal text so that SQLite matches it to the partial
    # index ix_jobs_active_scope (a bound parameter never matches a literal).
    query = sa.select(jobs).where(jobs.c.type == _param("type"), sa.text(ACTIVE_STATUS_SQL))
    if scoped:
        query = query.where(
            sa.or_(jobs.c.library_id == _param("library_id"), jobs.c.library_id.is_(None))
        )
    return query.order_by(jobs.c.created_at, jobs.c.id).limit(1)


ACTIVE_IN_SCOPE: Final = _active_statement(scoped=True)
"""The oldest active job of ``:type`` for library ``:library_id`` or global."""
ACTIVE_ANY: Final = _active_statement(scoped=False)
"""The oldest active job of ``:type`` in any scope."""


# --- the list query: one condition per field of ListJobsFilter, named after it -------------

ListShape = frozenset[str]
"""The names of the filters a list query has; one pair of statements is built per shape."""


def _job_conditions() -> dict[str, sa.ColumnElement[bool]]:
    return {
        "status": jobs.c.status.in_(_param("status", expanding=True)),
        "process_id_to_exclude": sa.or_(
            jobs.c.process_id.is_(None), jobs.c.process_id != _param("process_id_to_exclude")
        ),
        "type": jobs.c.type == _param("type"),
        "library_id": jobs.c.library_id == _param("library_id"),
        "visible_library_ids": visible_condition(
            jobs.c.library_id, _param("visible_library_ids", expanding=True)
        ),
    }


def _count_conditions() -> dict[str, sa.ColumnElement[bool]]:
    # Counts are kept per (type, library): only these filters can be answered from them.
    key = counts.c.library_key
    return {
        "type": counts.c.type == _param("type"),
        "library_id": key == _param("library_id"),
        "visible_library_ids": visible_condition(
            key, _param("visible_library_ids", expanding=True), global_key=GLOBAL_LIBRARY_KEY
        ),
        "library_id_or_global": sa.or_(
            key == _param("library_id_or_global"), key == GLOBAL_LIBRARY_KEY
        ),
    }


_SCOPED: Final = "library_id_or_global"
"""The filter answered as the union of two arms (this library, global)."""
_PAGING: Final = frozenset({"limit", "offset"})


def list_shape_and_params(options: ListJobsFilter) -> tuple[ListShape, dict[str, Any]]:
    """The shape of the query of ``options`` and its parameter values.

    Parameters: one per filter present, named after it, plus ``limit``, ``offset`` and
    ``window`` (``limit + offset``: how far each arm of a scoped query has to read).
    """
    params: dict[str, Any] = {
        name: value
        for name, value in msgspec.structs.asdict(options).items()
        if value is not None and value != ()
    }
    if "status" in params:
        params["status"] = [status.value for status in options.status]
    if "visible_library_ids" in params:
        params["visible_library_ids"] = sorted(params["visible_library_ids"])
    params["window"] = options.limit + options.offset
    return frozenset(params) - _PAGING - {"window"}, params


@functools.cache
def list_statements(shape: ListShape) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page query and the count query of ``shape`` (see :func:`list_shape_and_params`)."""
    job_conditions, count_conditions = _job_conditions(), _count_conditions()
    conditions = [condition for name, condition in job_conditions.items() if name in shape]
    counted: sa.Select[Any] | None = None
    if shape <= count_conditions.keys():
        total = sa.func.coalesce(sa.func.sum(counts.c.jobs), 0)
        counted = sa.select(total).where(
            *(condition for name, condition in count_conditions.items() if name in shape)
        )
    limit, offset = _param("limit", type_=sa.Integer), _param("offset", type_=sa.Integer)
    if _SCOPED not in shape:
        page = sa.select(jobs).where(*conditions).order_by(*_NEWEST_FIRST)
        count = sa.select(sa.func.count()).select_from(jobs).where(*conditions)
        return page.limit(limit).offset(offset), counted if counted is not None else count

    arms = (jobs.c.library_id == _param(_SCOPED), jobs.c.library_id.is_(None))
    window = _param("window", type_=sa.Integer)
    parts = [
        sa.select(jobs.c.id, jobs.c.created_at)
        .where(*conditions, arm)
        .order_by(*_NEWEST_FIRST)
        .limit(window)
        .subquery()
        for arm in arms
    ]
    # SQLite only allows ORDER BY/LIMIT inside a compound select's subqueries.
    merged = sa.union_all(*(sa.select(part.c.id, part.c.created_at) for part in parts)).subquery()
    page = (
        sa.select(jobs)
        .join(merged, jobs.c.id == merged.c.id)
        .order_by(merged.c.created_at.desc(), merged.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    arm_counts = [
        sa.select(sa.func.count()).select_from(jobs).where(*conditions, arm).scalar_subquery()
        for arm in arms
    ]
    count = sa.select(arm_counts[0] + arm_counts[1])
    return page, counted if counted is not None else count
