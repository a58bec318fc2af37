"""The changed paths of a library, kept small enough to hand to a targeted scan.

A path is relative to the library's folder (POSIX), ``"."`` being the folder itself.
A targeted scan walks each path with everything below it, so a path inside another
adds nothing; many changed entries of one folder become that folder, and too many
paths become the whole library (``None``), which is what a full scan costs anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Final

ROOT: Final = "."
SIBLINGS_PER_FOLDER: Final = 32  # more changed entries than this in one folder: scan the folder
MAX_PATHS: Final = 256  # more paths than this: scan the whole library


def covers(outer: list[str] | None, inner: list[str] | None) -> bool:
    """Whether a scan of ``outer`` walks everything a scan of ``inner`` walks.

    ``None`` is the whole library.
    """
    if outer is None:
        return True
    if inner is None:
        return False
    return all(any(is_within(path, scope) for scope in outer) for path in inner)


def merge(first: list[str] | None, second: list[str] | None) -> list[str] | None:
    """The paths a scan must walk to cover both; ``None`` (everything) wins."""
    if first is None or second is None:
        return None
    return compact([*first, *second])


def compact(paths: Iterable[str]) -> list[str] | None:
    """The fewest paths that cover ``paths``, sorted; ``None`` for the whole library.

    Args:
        paths: relative POSIX paths; ``"."`` is the library's folder.
    """
    current = _outermost(_normalised(paths))
    while True:
        if ROOT in current:
            return None
        collapsed = _collapse_crowded_folders(current)
        if collapsed == current:
            break
        current = collapsed
    if len(current) > MAX_PATHS:
        return None
    return sorted(current)


def _normalised(paths: Iterable[str]) -> set[str]:
    return {str(PurePosixPath(path)) or ROOT for path in paths}


def is_within(path: str, scope: str) -> bool:
    """Whether ``path`` is ``scope`` or below it."""
    return scope in (ROOT, path) or path.startswith(scope + "/")


def _outermost(paths: set[str]) -> set[str]:
    kept: set[str] = set()
    # Shorter paths first: a parent is always seen before its children.
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        if path == ROOT or not any(str(parent) in kept for parent in PurePosixPath(path).parents):
            kept.add(path)
    return kept


def _collapse_crowded_folders(paths: set[str]) -> set[str]:
    by_parent: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        by_parent[str(PurePosixPath(path).parent)].append(path)
    crowded = {
        parent for parent, children in by_parent.items() if len(children) > SIBLINGS_PER_FOLDER
    }
    if not crowded:
        return paths
    return _outermost(
        {path for path in paths if str(PurePosixPath(path).parent) not in crowded} | crowded
    )
