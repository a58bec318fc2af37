"""The list filters, described once: their names, types and limits as msgspec types.

- :class:`ListJobsQuery` is the query string of ``GET /api/jobs``: what a user may ask
  for, with its limits as msgspec constraints. The plugin lets Litestar parse and
  document the query from this struct.
- :class:`ListJobsFilter` is that query plus the filters only trusted code sets (the
  libraries the reader may see, a worker to leave out, one exact library): the checked,
  normalised form every list runs from. It is frozen and hashable, so a cache of
  answers uses it as its key, and :mod:`shisho_jobs.queries` builds the SQL from it.
- :class:`ListJobsOptions` is the Python API's argument (CONTRACT section 3), loosely
  typed for callers (any sequence of status names, any collection of ids);
  :func:`validated` checks it into a :class:`ListJobsFilter`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from typing import Annotated

import msgspec

from shisho_jobs.enums import JobStatus
from shisho_jobs.errors import InvalidJobInput
from shisho_jobs.schema import MAX_ID
from shisho_jobs.validation import Id, field_of, reason_of

MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 10


class ListJobsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs``."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIST_LIMIT)] = DEFAULT_LIST_LIMIT
    offset: Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)] = 0
    status: tuple[JobStatus, ...] = ()
    type: str | None = None
    library_id_or_global: Id | None = None
    """Only jobs of this library and global jobs."""


class ListJobsFilter(ListJobsQuery, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A list's filters as it runs: the user's query plus what only trusted code sets."""

    process_id_to_exclude: str | None = None
    """Leave out jobs claimed by this worker."""
    library_id: Id | None = None
    """Only jobs of exactly this library."""
    visible_library_ids: frozenset[int] | None = None
    """Only global jobs and jobs of these libraries (``None``: no restriction)."""

    @classmethod
    def for_reader(
        cls, query: ListJobsQuery, *, visible_library_ids: Collection[int] | None
    ) -> ListJobsFilter:
        """The filter of a user's ``query``, limited to the libraries the user may see."""
        visible = None if visible_library_ids is None else frozenset(visible_library_ids)
        return cls(**msgspec.structs.asdict(query), visible_library_ids=visible)


@dataclass(frozen=True)
class ListJobsOptions:
    """Filters and paging for :meth:`JobService.list_jobs`. Every filter is optional."""

    limit: int | None = None
    """Page size, 1 to 100; default 10."""
    offset: int | None = None
    """Rows to skip, 0 or more."""
    statuses: Sequence[str] = ()
    """Only jobs in one of these statuses."""
    process_id_to_exclude: str | None = None
    """Leave out jobs claimed by this process."""
    type: str | None = None
    """Only jobs of this type."""
    library_id_or_global: int | None = None
    """Only jobs of this library and global jobs (``library_id IS NULL``)."""
    library_id: int | None = None
    """Only jobs of exactly this library."""
    visible_library_ids: Collection[int] | None = None
    """Only global jobs and jobs of these libraries (``None``: no restriction)."""


_OPTION_FIELDS = tuple(option.name for option in fields(ListJobsOptions))


def validated(options: ListJobsOptions | ListJobsFilter) -> ListJobsFilter:
    """``options`` checked against :class:`ListJobsFilter`'s types and limits.

    Raises:
        InvalidJobInput: a bad value; ``field`` names the option as the caller spelled
            it (``statuses`` for a bad status in :class:`ListJobsOptions`).
    """
    if isinstance(options, ListJobsFilter):
        values = msgspec.structs.asdict(options)
        rename: dict[str, str] = {}
    else:
        # Shallow on purpose (dataclasses.asdict deep-copies, costlier than the list query
        # itself on SQLite); convert() builds fresh tuples and frozensets anyway.
        values = {
            name: value for name in _OPTION_FIELDS if (value := getattr(options, name)) is not None
        }
        if isinstance(values.get("statuses"), str):
            # A string is a sequence of letters; msgspec would say "expected array".
            raise InvalidJobInput("statuses", "must be a list of statuses, not a string")
        values["status"] = values.pop("statuses")
        rename = {"status": "statuses"}
    try:
        return msgspec.convert(values, ListJobsFilter, strict=True)
    except msgspec.ValidationError as error:
        # Filters are flat: `status.0` is the filter `status`.
        field = field_of(error).split(".", 1)[0]
        raise InvalidJobInput(rename.get(field, field), reason_of(error)) from None
