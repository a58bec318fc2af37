"""The library scanner behind the ``scan_library`` hook.

One pass over the library's folder (:mod:`library_host.walk`: ``os.scandir``, one
``stat`` per book file), one query loading the books already catalogued, metadata read
only for new or changed files (size or modification time differ), writes in batches,
and one delete for the books whose files are gone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from library_host.bookfiles import UnreadableBookFile, read_metadata
from library_host.models import books
from library_host.walk import FolderScan, KnownBook, find_changed_files, shown_path
from shisho_jobs import Database, Library
from shisho_jobs.context import JobContext, JobFailed
from shisho_jobs.schema import utcnow

WRITE_BATCH_SIZE = 500
"""Book rows written per transaction: short enough not to hold SQLite's write lock for long."""


class LibraryFolderMissing(JobFailed):
    """The library's folder does not exist (or is not a folder); the scan fails."""

    def __init__(self, library: Library) -> None:
        super().__init__(
            f"Library {library.name!r} (id {library.id}): folder {library.path!r} does not exist "
            "or is not a folder. Check that the drive is mounted or fix the library's path."
        )


@dataclass
class ScanSummary:
    """What a scan did; returned by the hook and logged when the scan ends."""

    library_id: int
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    unreadable: int = 0
    cancelled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON values."""
        return asdict(self)


def scan_library_folder(
    database: Database, library: Library, context: JobContext, *, force: bool = False
) -> ScanSummary:
    """Bring the catalogue of ``library`` in line with the files in its folder.

    Args:
        database: the host's database (``books`` table).
        library: the library to scan; its ``path`` is the folder.
        context: the running job: progress, logs, cancellation.
        force: re-read every file, even unchanged ones.

    Returns:
        What the scan did. A cancelled scan keeps what it wrote and removes nothing.

    Raises:
        LibraryFolderMissing: the library's folder does not exist.
    """
    root = Path(library.path) if library.path else None
    if root is None or not root.is_dir():
        raise LibraryFolderMissing(library)
    known = _load_known_books(database, library.id)
    folder_scan = find_changed_files(root, known, force=force)
    _report_skipped(folder_scan, known, context)
    to_read, total = folder_scan.changed, folder_scan.count
    summary = ScanSummary(library_id=library.id, files=total)
    summary.unreadable = len(folder_scan.unreadable_entries)
    summary.unchanged = total - len(to_read) - summary.unreadable
    writer = _BookWriter(database, library.id)
    removed_ids: list[int] = []
    done = summary.unchanged + summary.unreadable
    context.progress(done, total)
    for (path, absolute, file_format, size, mtime_ns), previous in to_read:
        if context.cancelled:
            writer.flush()
            summary.cancelled = True
            context.log.info("Scan stopped before the end; it kept what it had read")
            return summary
        try:
            _check_storable(path)
            metadata = read_metadata(Path(absolute), file_format)
        except UnreadableBookFile as error:
            summary.unreadable += 1
            _warn_unreadable_file(context, path, str(error))
            if previous is not None:
                removed_ids.append(previous[0])
        else:
            row = {
                "path": path,
                "title": metadata.title,
                "author": metadata.author,
                "format": file_format,
                "size": size,
                "mtime_ns": mtime_ns,
            }
            if previous is None:
                writer.insert(row)
                summary.added += 1
            else:
                writer.update(previous[0], row)
                summary.updated += 1
        done += 1
        context.progress(done, total)
    writer.flush()
    removed_ids.extend(book_id for book_id, _, _ in known.values())
    summary.removed = _delete_books(database, removed_ids)
    context.log.info(
        f"Scanned {summary.files} files: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.removed} removed, "
        f"{summary.unreadable} unreadable",
        data=summary.as_dict(),
    )
    return summary


def _report_skipped(
    folder_scan: FolderScan, known: dict[str, KnownBook], context: JobContext
) -> None:
    """Warn of what the walk did not read; keep the books of folders it could not list."""
    for folder, reason in folder_scan.unreadable_folders:
        shown = shown_path(folder)
        context.log.warn(
            f"Skipped unreadable folder {shown}: {reason}; its books are kept as they were",
            data={"path": shown, "reason": reason},
        )
        # Unlisted is not gone: a folder that cannot be read today keeps its books.
        for path in [path for path in known if path.startswith(f"{folder}/")]:
            del known[path]
    for folder in folder_scan.linked_folders:
        shown = shown_path(folder)
        reason = "links to folders are not followed; move the folder into the library instead"
        context.log.warn(
            f"Skipped linked folder {shown}: {reason}", data={"path": shown, "reason": reason}
        )
    for entry in folder_scan.unreadable_entries:
        reason = f"{entry.reason}; its book is kept as it was" if entry.book_kept else entry.reason
        _warn_unreadable_file(context, entry.path, reason)


def _warn_unreadable_file(context: JobContext, path: str, reason: str) -> None:
    shown = shown_path(path)
    context.log.warn(
        f"Skipped unreadable file {shown}: {reason}", data={"path": shown, "reason": reason}
    )


def _check_storable(relative_path: str) -> None:
    # A file name that is not valid UTF-8 reaches Python as surrogate escapes,
    # which no database column accepts.
    try:
        relative_path.encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableBookFile("its name is not valid UTF-8") from None


def _load_known_books(database: Database, library_id: int) -> dict[str, KnownBook]:
    query = sa.select(books.c.path, books.c.id, books.c.size, books.c.mtime_ns).where(
        books.c.library_id == library_id
    )
    with database.read() as session:
        connection = session.connection()
        # One row per book of the library, hundreds of thousands of them: the
        # driver's own cursor skips SQLAlchemy's per-row work (half the time).
        # The only value inlined into the SQL is the library's integer id.
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return {path: (book_id, size, mtime_ns) for path, book_id, size, mtime_ns in rows}


def _delete_books(database: Database, book_ids: list[int]) -> int:
    for start in range(0, len(book_ids), WRITE_BATCH_SIZE):
        chunk = book_ids[start : start + WRITE_BATCH_SIZE]
        with database.write() as session:
            session.execute(sa.delete(books).where(books.c.id.in_(chunk)))
    return len(book_ids)


class _BookWriter:
    """Collects inserts and updates and writes them in batches of executemany statements."""

    def __init__(self, database: Database, library_id: int) -> None:
        self._database = database
        self._library_id = library_id
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []

    def insert(self, row: dict[str, Any]) -> None:
        self._inserts.append(row)
        self._flush_if_full()

    def update(self, book_id: int, row: dict[str, Any]) -> None:
        self._updates.append({"book_id": book_id, **row})
        self._flush_if_full()

    def _flush_if_full(self) -> None:
        if len(self._inserts) + len(self._updates) >= WRITE_BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self._inserts and not self._updates:
            return
        now = utcnow()
        with self._database.write() as session:
            if self._inserts:
                session.execute(
                    sa.insert(books),
                    [
                        {**row, "library_id": self._library_id, "scanned_at": now}
                        for row in self._inserts
                    ],
                )
            if self._updates:
                session.execute(
                    sa.update(books)
                    .where(books.c.id == sa.bindparam("book_id"))
                    .values(
                        title=sa.bindparam("title"),
                        author=sa.bindparam("author"),
                        format=sa.bindparam("format"),
                        size=sa.bindparam("size"),
                        mtime_ns=sa.bindparam("mtime_ns"),
                        scanned_at=now,
                    ),
                    [{k: v for k, v in row.items() if k != "path"} for row in self._updates],
                )
        self._inserts.clear()
        self._updates.clear()
