"""The built-in ``scan`` job: calls the host's ``scan_library`` hook for each library in scope.

A library job looks up only its own library (``get_library``), never the whole
list; a global job (``library_id`` null) lists every library and scans each once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shisho_jobs.errors import LibrariesFailed, LibraryGone, NoLibraryProvider, NoScanner
from shisho_jobs.hooktypes import Library
from shisho_jobs.scanner_call import call_scan_library

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext


def run_scan_job(context: JobContext) -> None:
    """Scan the job's library, or every library for a global scan.

    Raises:
        LibraryGone: the job's library does not exist (any more).
        NoLibraryProvider: no plugin answers ``list_libraries`` for a global scan.
        NoScanner: no plugin answers ``scan_library``.
        LibrariesFailed: a global scan where some libraries' scans raised
            (the others were scanned; each failure is in the logs with its stack trace).
    """
    library_id = context.job.library_id
    if library_id is not None:
        _scan_one_library(context, library_id)
    else:
        _scan_all_libraries(context)


def _scan_one_library(context: JobContext, library_id: int) -> None:
    lookup = context.plugin_manager.hook.get_library
    if not lookup.get_hookimpls():
        # Not "no longer exists": the library may well exist; nobody was asked.
        raise NoLibraryProvider("No plugin answered get_library: is the host's plugin installed?")
    library = lookup(library_id=library_id)
    if library is None:
        message = f"Library {library_id} no longer exists; there is nothing to scan."
        raise LibraryGone(message)
    context.log.info(f"Scanning library {library.name!r}", {"library_id": library.id})
    result = _scan(context, library)
    context.progress(1, 1)
    context.log.info(f"Scanned library {library.name!r}", _summary(library, result))


def _scan_all_libraries(context: JobContext) -> None:
    libraries = context.plugin_manager.hook.list_libraries()
    if libraries is None:
        message = "No plugin lists the libraries, so there is nothing to scan."
        raise NoLibraryProvider(message)
    unique = list({library.id: library for library in libraries}.values())
    context.log.info(f"Scanning all {len(unique)} libraries", {"count": len(unique)})
    failed: list[Library] = []
    for index, library in enumerate(unique):
        if context.cancelled:
            context.log.info("Stopping before the remaining libraries: the scan was interrupted.")
            return
        context.log.info(f"Scanning library {library.name!r}", {"library_id": library.id})
        try:
            result = _scan(context.part(index, len(unique)), library)
        except NoScanner:
            raise
        except Exception:
            # One broken library must not keep the others from being scanned.
            context.log.exception(
                f"Scan of library {library.name!r} failed", {"library_id": library.id}
            )
            failed.append(library)
            continue
        context.log.info(f"Scanned library {library.name!r}", _summary(library, result))
    context.progress(1, 1)
    if failed:
        names = ", ".join(repr(library.name) for library in failed)
        raise LibrariesFailed(f"Scan failed for {len(failed)} of {len(unique)} libraries: {names}.")


def _scan(context: JobContext, library: Library) -> Any:
    result = call_scan_library(context, library)
    if result is None:
        message = (
            f"No scanner is installed: no plugin answered scan_library for library "
            f"{library.name!r}."
        )
        raise NoScanner(message)
    return result


def _summary(library: Library, result: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {"library_id": library.id}
    if isinstance(result, dict):
        summary.update(result)
    return summary
