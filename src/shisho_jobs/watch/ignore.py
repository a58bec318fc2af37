"""Names a watcher never looks at: hidden, system and unfinished-download entries.

NAS systems keep thumbnails and trash inside every shared folder (Synology ``@eaDir``
and ``#recycle``, macOS ``.DS_Store``); browsers and download tools write ``*.part``
and ``*.crdownload`` until a file is complete. Watching them costs OS watches (the
inotify limit) and starts scans for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

SYSTEM_NAMES: Final = frozenset(
    {"@eaDir", "#recycle", "#snapshot", "@Recycle", "$RECYCLE.BIN", "System Volume Information"}
)
"""Folders NAS and desktop systems keep inside shared folders (and files such as
``Thumbs.db``), never part of a library."""

SYSTEM_FILES: Final = frozenset({"Thumbs.db", "desktop.ini"})

TEMPORARY_SUFFIXES: Final = (".part", ".crdownload", ".partial", ".download", ".tmp")
"""Names a file has while it is still being downloaded or copied."""


def is_ignored_name(name: str) -> bool:
    """Whether a file or folder called ``name`` is hidden, a system entry or unfinished."""
    return (
        name.startswith(".")
        or name in SYSTEM_NAMES
        or name in SYSTEM_FILES
        or name.lower().endswith(TEMPORARY_SUFFIXES)
    )


def is_ignored_path(parts: Iterable[str]) -> bool:
    """Whether any component of a relative path (its ``parts``) is ignored."""
    return any(is_ignored_name(part) for part in parts)
