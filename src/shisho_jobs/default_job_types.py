"""Built-in job types ``scan`` and ``export``, registered like any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shisho_jobs.enums import JobType
from shisho_jobs.export import run_export_job
from shisho_jobs.hookimpl import hookimpl
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.payloads import JobExportData, JobScanData
from shisho_jobs.scan import run_scan_job

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext

PLUGIN_NAME = "shisho_jobs"


def run_scan(context: JobContext) -> None:
    """Scan the job's library, or every library for a global scan."""
    run_scan_job(context)


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
        ),
        JobTypeSpec(
            name=JobType.EXPORT.value,
            payload_type=JobExportData,
            handler=run_export,
            exclusive=False,
            plugin=PLUGIN_NAME,
        ),
    ]
