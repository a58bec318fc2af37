"""The built-in ``scan`` job: calls the host's ``scan_library`` hook for each library in scope.

A library job looks up only its own library (``get_library``), never the whole
list; a global job (``library_id`` null) lists every library and scans each once.
The job's result is a :class:`~shisho_jobs.results.ScanResult`: the scanner's
counts, and as ``warnings`` the warn lines logged while it ran; a global scan sums
its libraries' results and logs each library's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from shisho_jobs.errors import LibrariesFailed, LibraryGone, NoLibraryProvider, NoScanner
from shisho_jobs.hooktypes import Library
from shisho_jobs.results import ScanResult
from shisho_jobs.scanner_call import call_scan_library
from shisho_jobs.visibility import ALL_LIBRARIES

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext


_COUNTS = ("files", "added", "updated", "removed", "unchanged")
"""The counts a scanner reports; ``warnings`` is counted from the log."""


def run_scan_job(context: JobContext) -> ScanResult:
    """Scan the job's library, or every library for a global scan.

    Returns:
        What the scan did (a global scan: summed over the libraries it scanned).

    Raises:
        LibraryGone: the job's library does not exist (any more).
        NoLibraryProvider: no plugin answers ``list_libraries`` for a global scan.
        NoScanner: no plugin answers ``scan_library``.
        LibrariesFailed: a global scan where some libraries' scans raised
            (the others were scanned; each failure is in the logs with its stack trace).
    """
    library_id = context.job.library_id
    if library_id is not None:
        return _scan_one_library(context, library_id)
    return _scan_all_libraries(context)


def _scan_one_library(context: JobContext, library_id: int) -> ScanResult:
    lookup = context.plugin_manager.hook.get_library
    if not lookup.get_hookimpls():
        # Not "no longer exists": the library may well exist; nobody was asked.
        raise NoLibraryProvider("No plugin answered get_library: is the host's plugin installed?")
    library = lookup(library_id=library_id)
    if library is None:
        message = f"Library {library_id} no longer exists; there is nothing to scan."
        raise LibraryGone(message)
    context = context.about_library(library.id)
    context.log.info(f"Scanning library {library.name!r}", {"library_id": library.id})
    result, answer = _scan(context, library)
    if not context.cancelled:
        context.progress(1, 1)
    context.log.info(f"Scanned library {library.name!r}", _summary(library, result, answer))
    return result


def _scan_all_libraries(context: JobContext) -> ScanResult:
    libraries = context.plugin_manager.hook.list_libraries()
    if libraries is None:
        message = "No plugin lists the libraries, so there is nothing to scan."
        raise NoLibraryProvider(message)
    unique = list({library.id: library for library in libraries}.values())
    # How many libraries there are is itself something of the others: said to readers
    # of every library only. Each library's lines go to that library's readers.
    context.log.about(ALL_LIBRARIES).info(
        f"Scanning all {len(unique)} libraries", {"count": len(unique)}
    )
    failed: list[Library] = []
    total = _zero()
    for index, library in enumerate(unique):
        if context.cancelled:
            context.log.info("Stopping before the remaining libraries: the scan was interrupted.")
            return total
        library_context = context.part(index, len(unique)).about_library(library.id)
        log = library_context.log
        log.info(f"Scanning library {library.name!r}", {"library_id": library.id})
        try:
            result, answer = _scan(library_context, library)
        except NoScanner:
            raise
        except Exception:
            # One broken library must not keep the others from being scanned.
            log.exception(f"Scan of library {library.name!r} failed", {"library_id": library.id})
            failed.append(library)
            continue
        total = total.plus(result)
        log.info(f"Scanned library {library.name!r}", _summary(library, result, answer))
    context.progress(1, 1)
    if failed:
        names = ", ".join(repr(library.name) for library in failed)
        message = f"Scan failed for {len(failed)} of {len(unique)} libraries: {names}."
        # The libraries that were scanned still count.
        raise LibrariesFailed(message, result=total)
    return total


def _scan(context: JobContext, library: Library) -> tuple[ScanResult, Any]:
    """Scan one library: its counts, and what the scanner answered."""
    warnings_before = context.log.warnings_logged
    answer = call_scan_library(context, library)
    if answer is None:
        message = (
            f"No scanner is installed: no plugin answered scan_library for library "
            f"{library.name!r}."
        )
        raise NoScanner(message)
    return _result_of(answer, warnings=context.log.warnings_logged - warnings_before), answer


def _result_of(answer: Any, *, warnings: int) -> ScanResult:
    """The scanner's counts (a ``ScanResult``, a mapping or an object with those attributes)."""
    counts: dict[str, int] = {}
    for name in _COUNTS:
        value = answer.get(name) if isinstance(answer, Mapping) else getattr(answer, name, None)
        # A scanner that does not count something reports nothing about it: 0.
        counts[name] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return ScanResult(**counts, warnings=warnings)


def _zero() -> ScanResult:
    return ScanResult(files=0, added=0, updated=0, removed=0, unchanged=0, warnings=0)


def _summary(library: Library, result: ScanResult, answer: Any) -> dict[str, Any]:
    """The data of a library's "Scanned" line: whatever the scanner reported, and the counts."""
    summary: dict[str, Any] = {"library_id": library.id}
    if isinstance(answer, Mapping):
        summary.update(answer)
    summary.update(msgspec.structs.asdict(result))
    return summary
