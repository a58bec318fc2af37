"""Which jobs a reader may see: the one definition, used for lists, single jobs and events.

A reader may see the jobs of the libraries it may access (``None``: every library) and
every global job (``library_id IS NULL``: a global job is about all libraries, so it is
visible to all). A reader may narrow that further to one library and the global jobs
("this library or global").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

Column = sa.ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column holding a job's library (Core or ORM)."""


def can_see(visible_library_ids: Collection[int] | None, library_id: int | None) -> bool:
    """Whether a reader limited to ``visible_library_ids`` may see a job of ``library_id``.

    Args:
        visible_library_ids: the libraries the reader may access; ``None`` means all.
        library_id: the job's library; ``None`` for a global job, which everyone sees.
    """
    return library_id is None or visible_library_ids is None or library_id in visible_library_ids


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


EVERYTHING = Visibility()
"""A reader that may see every job (the worker, the command line)."""
