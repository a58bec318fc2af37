"""Built-in job types ``scan`` and ``export``, registered like any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shisho_jobs.enums import JobType
from shisho_jobs.export import run_export_job
from shisho_jobs.hookimpl import hookimpl
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.payloads import JobExportData, JobScanData
from shisho_jobs.results import ScanResult
from shisho_jobs.scan import run_scan_job

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext

PLUGIN_NAME = "shisho_jobs"


def run_scan(context: JobContext) -> ScanResult:
    """Scan the job's library, or every library for a global scan; returns its counts."""
    return run_scan_job(context)


def run_export(context: JobContext) -> None:
    """Write the catalogue of the libraries in scope as JSON."""
    run_export_job(context)


@hookimpl
def job_types() -> list[JobTypeSpec]:
    return [
        JobTypeSpec(
            name=JobType.SCAN.value,
            payload_type=JobScanData,
            handler=run_scan,
            exclusive=True,
            plugin=PLUGIN_NAME,
            result_type=ScanResult,
            # A failed scan is shown and scanned again by a person, the watcher or the
            # schedule: never automatically, which would hide a missing folder.
            max_attempts=1,
        ),
        JobTypeSpec(
            name=JobType.EXPORT.value,
            payload_type=JobExportData,
            handler=run_export,
            # Each export writes a file: one at a time per scope, joined like a scan, so
            # nobody can queue them without end.
            exclusive=True,
            plugin=PLUGIN_NAME,
        ),
    ]
