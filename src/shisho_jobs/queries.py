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
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from shisho_jobs.enums import ACTIVE_STATUS_SQL
from shisho_jobs.schema import JobRow, JobScopeCountRow
from shisho_jobs.scope_counts import GLOBAL_LIBRARY_KEY

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


@dataclass(frozen=True)
class ListShape:
    """Which filters a list query has; one pair of statements is built per shape."""

    statuses: bool = False
    exclude_process: bool = False
    type: bool = False
    library_id: bool = False
    visible: bool = False
    scoped: bool = False
    """``library_id_or_global``: the union of two arms."""


def _conditions(shape: ListShape) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if shape.statuses:
        conditions.append(jobs.c.status.in_(_param("statuses", expanding=True)))
    if shape.exclude_process:
        conditions.append(
            sa.or_(jobs.c.process_id.is_(None), jobs.c.process_id != _param("process_id"))
        )
    if shape.type:
        conditions.append(jobs.c.type == _param("type"))
    if shape.library_id:
        conditions.append(jobs.c.library_id == _param("library_id"))
    if shape.visible:
        conditions.append(
            sa.or_(
                jobs.c.library_id.is_(None),
                jobs.c.library_id.in_(_param("visible", expanding=True)),
            )
        )
    return conditions


def _counted_total(shape: ListShape) -> sa.Select[Any]:
    """The total of ``shape`` from ``job_scope_counts``: a few rows, however long the history."""
    conditions: list[sa.ColumnElement[bool]] = []
    if shape.type:
        conditions.append(counts.c.type == _param("type"))
    if shape.library_id:
        conditions.append(counts.c.library_key == _param("library_id"))
    if shape.visible:
        conditions.append(
            sa.or_(
                counts.c.library_key == GLOBAL_LIBRARY_KEY,
                counts.c.library_key.in_(_param("visible", expanding=True)),
            )
        )
    if shape.scoped:
        conditions.append(
            sa.or_(
                counts.c.library_key == _param("scope_library_id"),
                counts.c.library_key == GLOBAL_LIBRARY_KEY,
            )
        )
    return sa.select(sa.func.coalesce(sa.func.sum(counts.c.jobs), 0)).where(*conditions)


@functools.cache
def list_statements(shape: ListShape) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page query and the count query of ``shape``.

    Parameters: those of the filters present, plus ``limit`` and ``offset``;
    a scoped shape also takes ``scope_library_id`` and ``window``
    (``limit + offset``: how far each arm has to read).
    """
    conditions = _conditions(shape)
    # Counts are kept per (type, library), not per status or worker.
    countable = not (shape.statuses or shape.exclude_process)
    limit, offset = _param("limit", type_=sa.Integer), _param("offset", type_=sa.Integer)
    if not shape.scoped:
        page = sa.select(jobs).where(*conditions).order_by(*_NEWEST_FIRST)
        count = sa.select(sa.func.count()).select_from(jobs).where(*conditions)
        return page.limit(limit).offset(offset), _counted_total(shape) if countable else count

    arms = (jobs.c.library_id == _param("scope_library_id"), jobs.c.library_id.is_(None))
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
    return page, _counted_total(shape) if countable else sa.select(arm_counts[0] + arm_counts[1])
