"""What a scan may look at and remove: targeted scans and the mass-removal guard.

A watch scan walks only the files and folders that changed (``JobScanData.paths``), so it
loads only the books catalogued under them, and decides removals only among those.

A scan that would remove more than half of a library's books looks like a drive that is
not (fully) mounted rather than a reader who deleted their books. Scans that started by
themselves (a file watch, the schedule) then remove none and say why; a scan someone
started by hand removes them, as asked.
"""

from __future__ import annotations

import sqlalchemy as sa

from library_host.models import books
from library_host.walk import KnownBook
from shisho_jobs import Database, Library
from shisho_jobs.context import JobContext

PATHS_PER_QUERY = 100  # targeted paths per query (each is two comparisons)


def load_known_books_under(
    database: Database, library_id: int, paths: list[str]
) -> dict[str, KnownBook]:
    """The catalogued books of the library at or below each of ``paths``."""
    known: dict[str, KnownBook] = {}
    with database.read() as session:
        for start in range(0, len(paths), PATHS_PER_QUERY):
            chunk = paths[start : start + PATHS_PER_QUERY]
            inside = sa.or_(
                *(
                    sa.or_(
                        books.c.path == path,
                        # substr, not LIKE: a path may hold % or _, and no escaping is needed.
                        sa.func.substr(books.c.path, 1, len(path) + 1) == f"{path}/",
                    )
                    for path in chunk
                )
            )
            query = sa.select(books.c.path, books.c.id, books.c.size, books.c.mtime_ns).where(
                books.c.library_id == library_id, inside
            )
            for path, book_id, size, mtime_ns in session.execute(query):
                known[path] = (book_id, size, mtime_ns)
    return known


def refuse_mass_removal(
    database: Database, library: Library, removing: int, context: JobContext
) -> bool:
    """Whether removing ``removing`` books is more than half of the library (and say so).

    Returns:
        ``True`` when the scan must remove none; a warning in the job's log says why and
        what to do.
    """
    with database.read() as session:
        catalogued = session.execute(
            sa.select(sa.func.count()).select_from(books).where(books.c.library_id == library.id)
        ).scalar_one()
    if removing * 2 <= catalogued:
        return False
    context.log.warn(
        f"Kept {removing} of the {catalogued} books of library {library.name!r} whose files "
        "are gone: a scan that starts by itself never removes more than half of a library, "
        "as a drive that is not (fully) mounted looks just like that. Check the library's "
        "folder; if the books are really gone, start a scan by hand to remove them.",
        data={"kept": removing, "books": catalogued, "reason": "mass_removal"},
    )
    return True
