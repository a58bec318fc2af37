"""The host's implementations of the shisho hooks (entry point ``shisho: library_host``).

Loaded by the web app's plugin manager and by every ``shisho-jobs worker``
process, which find it through the ``shisho`` entry-point group. The database is
the one configured in the environment (``SHISHO_DATABASE_URL``/``SHISHO_DATA_DIR``).
"""

from __future__ import annotations

from typing import Any

from library_host import catalog
from library_host.database import get_database
from library_host.scanner import scan_library_folder
from library_host.users import User
from shisho_jobs import ActorAccess, JobContext, JobTrigger, Library, hookimpl

AUTOMATIC_TRIGGERS = frozenset({JobTrigger.WATCH, JobTrigger.SCHEDULE})
"""Triggers of scans nobody asked for by hand (``Job.trigger``)."""


@hookimpl
def list_libraries() -> list[Library]:
    """Every library of the host, by id."""
    return catalog.list_libraries(get_database())


@hookimpl
def get_library(library_id: int) -> Library | None:
    """The library with this id (one query), or ``None``."""
    return catalog.get_library(get_database(), library_id)


@hookimpl
def scan_library(library: Library, context: JobContext) -> dict[str, Any]:
    """Scan the library's folder into the ``books`` table; returns what the scan did."""
    data = context.job.data
    # Scans that started by themselves never remove more than half of a library.
    started_by_itself = context.job.trigger in AUTOMATIC_TRIGGERS
    return scan_library_folder(
        get_database(),
        library,
        context,
        force=bool(getattr(data, "force", False)),
        paths=getattr(data, "paths", None),
        guard_removals=started_by_itself,
    ).as_dict()


@hookimpl
def actor_access(actor: Any) -> ActorAccess | None:
    """The permissions and libraries of one of the host's users (``None`` for other actors)."""
    if isinstance(actor, User):
        return actor.access
    return None
