"""Typed ``data`` payloads of the built-in job types, stored as JSON text in ``jobs.data``."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

import msgspec


class JobScanData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Payload of a ``scan`` job. Which library is scanned is the job's ``library_id``."""

    force: bool = False
    """Re-read every file, even those whose size and modification time are unchanged."""
    paths: list[str] | None = None
    """Only these files and folders (POSIX, relative to the library's folder), each with
    everything below it; removal is decided only inside them. ``None``: the whole library.
    Watch scans carry the changed paths here."""

    def __post_init__(self) -> None:
        for path in self.paths or ():
            if not _is_relative_inside(path):
                # msgspec turns this into a ValidationError; "field `paths`" lets
                # dto.field_of name the field (``data.paths``).
                raise ValueError(
                    f"{path!r} in field `paths` is not a path inside the library's folder "
                    "(relative, POSIX, no '..')"
                )


def _is_relative_inside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(path) and not path.startswith("/") and "\\" not in path and ".." not in parts


class JobExportData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Payload of an ``export`` job: writes the catalogue of the libraries in scope as JSON."""

    format: Literal["json"] = "json"
    """Output format. Only ``json`` for now."""
