"""shisho_jobs: the framework-agnostic jobs core of shisho-resync.

Schema and migrations, the job service, the worker and the hook API.
Never imports a web framework.
"""

from __future__ import annotations

from shisho_jobs.context import JobContext
from shisho_jobs.db import Database, create_engine
from shisho_jobs.dto import CreateJobPayload, Job, JobLog
from shisho_jobs.enums import JobStatus, JobType, LogLevel
from shisho_jobs.errors import (
    ActiveJobExists,
    InvalidJobInput,
    JobFailed,
    JobNotFound,
    LeaseLost,
    LibraryNotFound,
    ShishoJobsError,
    UnknownJobType,
)
from shisho_jobs.filters import ListJobsOptions, ListJobsQuery
from shisho_jobs.hookimpl import hookimpl
from shisho_jobs.hooktypes import ActorAccess, JobTypeSpec, Library, NavContext, NavItem
from shisho_jobs.payloads import JobExportData, JobScanData
from shisho_jobs.plugins import get_plugin_manager
from shisho_jobs.service import JobService
from shisho_jobs.worker import Worker

__all__ = [
    "ActiveJobExists",
    "ActorAccess",
    "CreateJobPayload",
    "Database",
    "InvalidJobInput",
    "Job",
    "JobContext",
    "JobExportData",
    "JobFailed",
    "JobLog",
    "JobNotFound",
    "JobScanData",
    "JobService",
    "JobStatus",
    "JobType",
    "JobTypeSpec",
    "LeaseLost",
    "Library",
    "LibraryNotFound",
    "ListJobsOptions",
    "ListJobsQuery",
    "LogLevel",
    "NavContext",
    "NavItem",
    "ShishoJobsError",
    "UnknownJobType",
    "Worker",
    "create_engine",
    "get_plugin_manager",
    "hookimpl",
]
