"""Walking a library's folder: which book files are there, and which changed since the last scan.

The folder's content is untrusted (whoever may copy files into a library may put
anything there), so the walk decides what it reads:

- folders are descended, links to folders never (no loops, no escapes);
- a link to a file is followed only when its target, fully resolved, lies inside
  the library's folder; the book is then read through the resolved path;
- anything else with a book's name that is not a regular file (a FIFO, a socket,
  a device, a broken link, a link loop) and every ``OSError`` on one entry is one
  unreadable entry the scan reports, never a failure of the whole walk.
"""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from library_host.bookfiles import FORMATS_BY_EXTENSION, file_kind

BookFile = tuple[str, str, str, int, int]
"""A book file found on disk: ``(path, absolute_path, format, size, mtime_ns)``; ``path`` is
relative to the library's folder and ``/``-separated. Plain tuples: a scan makes one per file."""

KnownBook = tuple[int, int, int]
"""A catalogued book as the scanner compares it: ``(id, size, mtime_ns)``."""

ChangedFile = tuple[BookFile, KnownBook | None]
"""A file to read: new (no known book) or changed since the catalogued version."""


@dataclass(frozen=True)
class UnreadableEntry:
    """An entry of the folder with a book's name that the scan does not read."""

    path: str
    """Relative to the library's folder, ``/``-separated; may hold undecodable bytes."""
    reason: str
    """Why, in words, without server paths."""
    book_kept: bool
    """A catalogued book of this path stays as it was: an error (permission, I/O, a link
    loop) says nothing about the book. One that is no longer a book (a FIFO, a link leaving
    the library) is removed with the vanished files."""


@dataclass
class FolderScan:
    """What a walk of a library's folder found."""

    changed: list[ChangedFile]
    """New or changed book files, to read."""
    count: int
    """Book files found in all (unreadable entries included)."""
    unreadable_folders: list[tuple[str, str]]
    """Sub-folders that could not be listed: ``(relative path, why)``; their books stay."""
    unreadable_entries: list[UnreadableEntry] = field(default_factory=list)
    """Entries with a book's name that are not read."""
    linked_folders: list[str] = field(default_factory=list)
    """Links to folders, not followed (relative paths)."""


def shown_path(path: str) -> str:
    """``path`` as logs and pages show it: bytes that are not UTF-8 escaped as ``\\xff``.

    A file name that is not UTF-8 reaches Python with surrogate escapes, which
    neither JSON nor a database column accepts.
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


class _NotABook(Exception):
    """An entry with a book's name that is no regular file inside the library."""


def _link_target(link: str, real_root: str) -> str:
    """The resolved path of ``link`` when it is a regular file inside ``real_root``.

    Raises:
        _NotABook: the link is broken, leaves the library's folder or names no regular file.
        OSError: the link cannot be resolved (a loop, no permission).
    """
    try:
        target = os.path.realpath(link, strict=True)
    except FileNotFoundError:
        raise _NotABook("it is a broken link") from None
    if os.path.commonpath([real_root, target]) != real_root:
        raise _NotABook("it links outside the library's folder; such links are not followed")
    mode = Path(target).stat().st_mode
    if not stat_module.S_ISREG(mode):
        raise _NotABook(f"it links to something that is not a regular file ({file_kind(mode)})")
    return target


def _other_entry(
    entry: os.DirEntry[str], path: str, file_format: str | None, real_root: str, scan: FolderScan
) -> str | None:
    """For an entry that is neither a regular file nor a folder: the file to read, if any.

    Raises:
        _NotABook: the entry has a book's name but is no book the scan may read.
        OSError: the entry cannot be examined.
    """
    if entry.is_symlink():
        if Path(entry.path).is_dir():
            scan.linked_folders.append(path)
            return None
        return None if file_format is None else _link_target(entry.path, real_root)
    if file_format is None:
        return None
    mode = entry.stat(follow_symlinks=False).st_mode
    raise _NotABook(f"it is not a regular file ({file_kind(mode)})")


def _list_folder(folder: str, prefix: str, scan: FolderScan) -> os._ScandirIterator[str] | None:
    """The entries of ``folder``, or ``None`` (and one unreadable folder) if it cannot be listed.

    Raises:
        OSError: the library's own folder (``prefix`` empty) cannot be listed.
    """
    try:
        return os.scandir(folder)
    except OSError as error:
        if not prefix:
            raise  # the library's own folder: the scan cannot go on
        scan.unreadable_folders.append((prefix.rstrip("/"), error.strerror or str(error)))
        return None


def _unreadable(path: str, error: Exception, known: dict[str, KnownBook]) -> UnreadableEntry:
    if isinstance(error, _NotABook):
        # No longer a book: its catalogued book (still in ``known``) goes with the vanished.
        return UnreadableEntry(path, str(error), book_kept=False)
    # An error says nothing about the book: unknown is not gone.
    kept = known.pop(path, None) is not None
    reason = (error.strerror if isinstance(error, OSError) else None) or type(error).__name__
    return UnreadableEntry(path, reason, book_kept=kept)


def find_changed_files(
    root: Path, known: dict[str, KnownBook], *, force: bool = False
) -> FolderScan:
    """Walk ``root`` and sort its book files out against the ``known`` catalogue.

    Hidden files and folders (``.name``) are skipped. Entries of ``known`` found
    on disk are removed from it, so what remains afterwards has vanished.

    Args:
        root: the library's folder.
        known: the catalogued books by relative path; emptied of those found.
        force: treat every file as changed.

    Returns:
        The new or changed files, how many book files there are, what could not be
        read and the folders that could not be listed.

    Raises:
        OSError: the library's own folder cannot be listed.
    """
    # One pass, one stat per file, and nothing built for an unchanged file:
    # on a rescan they are nearly all of them.
    scan = FolderScan(changed=[], count=0, unreadable_folders=[])
    count = 0
    pop_known = known.pop
    formats = FORMATS_BY_EXTENSION
    real_root = os.path.realpath(root)
    pending: list[tuple[str, str]] = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        entries = _list_folder(folder, prefix, scan)
        if entries is None:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                # bookfiles.book_format(), inlined: this line runs for every file.
                dot = name.rfind(".")
                file_format = formats.get(name[dot:].lower()) if dot > 0 else None
                path = prefix + name
                try:
                    if entry.is_file(follow_symlinks=False):
                        if file_format is None:
                            continue
                        absolute = entry.path
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{path}/"))
                        continue
                    else:
                        target = _other_entry(entry, path, file_format, real_root, scan)
                        if target is None:
                            continue
                        absolute = target
                    stat = entry.stat()
                except FileNotFoundError:
                    continue  # deleted since the folder was listed
                except (_NotABook, OSError) as error:
                    count += 1
                    scan.unreadable_entries.append(_unreadable(path, error, known))
                    continue
                assert file_format is not None  # _other_entry() gives no file without one
                count += 1
                previous = pop_known(path, None)
                if (
                    previous is not None
                    and not force
                    and previous[1] == stat.st_size
                    and previous[2] == stat.st_mtime_ns
                ):
                    continue
                book_file = (path, absolute, file_format, stat.st_size, stat.st_mtime_ns)
                scan.changed.append((book_file, previous))
    scan.count = count
    return scan
