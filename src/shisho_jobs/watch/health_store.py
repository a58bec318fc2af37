"""Watcher health in the database, so that admins see every worker's (``library_watches``).

A worker writes its rows when something changed (at most every few seconds) and deletes
them when it stops; its rows go with its ``workers`` row too (a foreign key, on delete
cascade), so a killed worker's watches vanish when its row expires. Readers list the rows
of live workers only, and only of the libraries the reader may see.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

import msgspec
import sqlalchemy as sa

from shisho_jobs.clock import database_now
from shisho_jobs.db import Database
from shisho_jobs.schema import LibraryWatchRow, WorkerRow
from shisho_jobs.watch.health import WatchHealth

_watches = cast(sa.Table, LibraryWatchRow.__table__)
_workers = cast(sa.Table, WorkerRow.__table__)


class ListWatchersResponse(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs/watchers``: each library as each live worker watches it."""

    watchers: list[WatchHealth]


def publish_watch_health(database: Database, worker_id: str, health: Sequence[WatchHealth]) -> bool:
    """Replace ``worker_id``'s rows with ``health``.

    Returns:
        ``False`` when the worker has no ``workers`` row (it expired; it registers again
        with its next heartbeat), so nothing could be written.
    """
    rows = [
        {"worker_id": worker_id, "library_id": item.library_id, "health": _encode(item)}
        for item in health
    ]
    try:
        with database.write() as session:
            session.execute(sa.delete(_watches).where(_watches.c.worker_id == worker_id))
            if rows:
                session.execute(sa.insert(_watches), rows)
    except sa.exc.IntegrityError:
        return False
    return True


def forget_watch_health(database: Database, worker_id: str) -> None:
    """Delete ``worker_id``'s rows (it stops watching)."""
    with database.write() as session:
        session.execute(sa.delete(_watches).where(_watches.c.worker_id == worker_id))


def list_watch_health(
    database: Database, *, visible_library_ids: Collection[int] | None
) -> list[WatchHealth]:
    """The watches of live workers, by library and worker.

    Args:
        database: where the rows are.
        visible_library_ids: the libraries the reader may see; ``None``: every library.
    """
    with database.read() as session:
        dialect = session.get_bind().dialect.name
        query = (
            sa.select(_watches.c.health)
            .join(_workers, _workers.c.id == _watches.c.worker_id)
            .where(_workers.c.expires_at > database_now(dialect))
            .order_by(_watches.c.library_id, _watches.c.worker_id)
        )
        if visible_library_ids is not None:
            query = query.where(_watches.c.library_id.in_(list(visible_library_ids)))
        texts = session.execute(query).scalars().all()
    return [msgspec.json.decode(text, type=WatchHealth) for text in texts]


def _encode(health: WatchHealth) -> str:
    return msgspec.json.encode(health).decode()
