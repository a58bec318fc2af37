"""The built-in ``export`` job: writes the catalogue of the libraries in scope as JSON.

The file is ``$SHISHO_DATA_DIR/exports/job-<id>.json``; it is written to a
temporary name first and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from shisho_jobs.config import data_dir
from shisho_jobs.errors import LibraryGone, NoLibraryProvider
from shisho_jobs.hooktypes import Library
from shisho_jobs.schema import utcnow

if TYPE_CHECKING:
    from pathlib import Path

    from shisho_jobs.context import JobContext

EXPORTS_FOLDER = "exports"


class ExportDocument(msgspec.Struct, frozen=True, kw_only=True):
    """What an export file holds."""

    job_id: int
    exported_at: str
    libraries: list[Library]


def export_path(job_id: int) -> Path:
    """Where the export of job ``job_id`` is written."""
    return data_dir() / EXPORTS_FOLDER / f"job-{job_id}.json"


def run_export_job(context: JobContext) -> None:
    """Write the job's library (or every library, for a global export) to a JSON file.

    Raises:
        LibraryGone: the job's library does not exist (any more).
        NoLibraryProvider: no plugin lists the libraries for a global export.
    """
    libraries = _libraries_in_scope(context)
    document = ExportDocument(
        job_id=context.job.id, exported_at=utcnow().isoformat(), libraries=libraries
    )
    path = export_path(context.job.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(document)))
    partial.replace(path)
    context.progress(1, 1)
    context.log.info(
        f"Exported {len(libraries)} libraries to {path}",
        {"path": str(path), "count": len(libraries)},
    )


def _libraries_in_scope(context: JobContext) -> list[Library]:
    hook = context.plugin_manager.hook
    library_id = context.job.library_id
    if library_id is not None:
        library = hook.get_library(library_id=library_id)
        if library is None:
            message = f"Library {library_id} no longer exists; there is nothing to export."
            raise LibraryGone(message)
        return [library]
    libraries = hook.list_libraries()
    if libraries is None:
        message = "No plugin lists the libraries, so there is nothing to export."
        raise NoLibraryProvider(message)
    return list(libraries)
