"""The host's shisho hooks (README step 3): its libraries, its scanner, its users' access."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bookshelf.db import library_row, library_rows
from bookshelf.users import User
from shisho_jobs import ActorAccess, JobContext, JobFailed, Library, hookimpl


@hookimpl
def list_libraries() -> list[Library]:
    return [Library(id=row.id, name=row.name, path=row.path) for row in library_rows()]


@hookimpl
def get_library(library_id: int) -> Library | None:
    row = library_row(library_id)
    return None if row is None else Library(id=row.id, name=row.name, path=row.path)


@hookimpl
def scan_library(library: Library, context: JobContext) -> dict[str, Any]:
    folder = Path(library.path)
    if not folder.is_dir():
        raise JobFailed(f"The folder {folder} does not exist.")
    books = sorted(folder.rglob("*.epub"))
    for done, book in enumerate(books, start=1):
        if context.cancelled:
            break
        context.log.debug(f"Found {book.name}")
        context.progress(done, len(books))
    return {"files": len(books)}


@hookimpl
def actor_access(actor: Any) -> ActorAccess | None:
    if not isinstance(actor, User):
        return None
    return ActorAccess(
        permissions=actor.permissions,
        library_ids=None if actor.is_admin else actor.library_ids,
    )
