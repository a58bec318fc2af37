"""TypeScript types of the jobs API, generated from the msgspec structs (``shisho-jobs typegen``).

The generator reads msgspec's JSON schema of the structs (``msgspec.json.schema_components``),
so adding, removing or retyping a field changes the output; ``--check`` then fails until the
committed files under ``frontend_snippets/types/generated/`` are regenerated.

What the schema does not carry is added here: ``Job.data`` and ``CreateJobPayload.data`` are
typed as the union of the payload structs (``JobData``), the names of the live events come from
:mod:`shisho_jobs.service`, fields that a struct omits when null are optional rather than
nullable, and the docstrings written under fields become JSDoc comments.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from shisho_jobs.dto import (
    CreateJobPayload,
    Job,
    JobLog,
    ListJobLogsResponse,
    ListJobsResponse,
)
from shisho_jobs.enums import JobStatus, JobType, LogLevel
from shisho_jobs.errors import TypegenError
from shisho_jobs.filters import ListJobsQuery
from shisho_jobs.outbox import (
    EVENT_CREATED,
    EVENT_PROGRESS,
    EVENT_SNAPSHOT,
    EVENT_STATUS_CHANGED,
)
from shisho_jobs.payloads import JobExportData, JobScanData
from shisho_jobs.typegen import typescript
from shisho_jobs.typegen.typescript import (
    HEADER,
    PayloadUnion,
    StringUnion,
    TypeFile,
)

__all__ = [
    "TYPE_FILES",
    "PayloadUnion",
    "StringUnion",
    "TypeFile",
    "TypegenError",
    "render_files",
    "run_typegen_command",
]

PAYLOAD_UNION = "JobData"

JOB_EVENT_NAME = StringUnion(
    name="JobEventName",
    doc="Names of the Server-Sent Events of `GET /api/jobs/events`; each event's data is a Job "
    "(`job.snapshot`: a job's current state, sent after a reconnect that cannot be replayed).",
    values=(EVENT_CREATED, EVENT_STATUS_CHANGED, EVENT_PROGRESS, EVENT_SNAPSHOT),
)


TYPE_FILES: tuple[TypeFile, ...] = (
    TypeFile(
        name="models.ts",
        types=(JobStatus, JobType, LogLevel, JobScanData, JobExportData, Job, JobLog),
        unions=(
            PayloadUnion(
                name=PAYLOAD_UNION,
                doc="A job's payload: one of the built-in types' or a plugin job type's.",
                members=(JobScanData, JobExportData),
            ),
        ),
        field_types={("Job", "data"): PAYLOAD_UNION},
    ),
    TypeFile(
        name="jobs.ts",
        types=(
            CreateJobPayload,
            ListJobsQuery,
            ListJobsResponse,
            ListJobLogsResponse,
            JOB_EVENT_NAME,
        ),
        field_types={("CreateJobPayload", "data"): PAYLOAD_UNION},
    ),
)


def render_files(files: Sequence[TypeFile] = TYPE_FILES) -> dict[str, str]:
    """The text of every generated file by file name, plus ``index.ts`` re-exporting them all."""
    return typescript.render_files(files)


def run_typegen_command(out_dir: str, check: bool, files: Sequence[TypeFile] = TYPE_FILES) -> int:
    """Write the TypeScript files into ``out_dir``, or with ``check`` compare them.

    Args:
        out_dir: The folder of the generated files.
        check: Only compare: report every missing or stale file on stderr.
        files: What to generate (the API's types unless a test says otherwise).

    Returns:
        The exit status: 0 when written or up to date, 1 when ``check`` found a stale file,
        2 when the structs cannot be written as TypeScript.
    """
    folder = Path(out_dir)
    try:
        rendered = render_files(files)
    except TypegenError as error:
        print(f"shisho-jobs typegen: {error.message}", file=sys.stderr)
        return 2
    leftovers = _leftover_files(folder, rendered)
    if check:
        stale = [
            folder / name
            for name, text in rendered.items()
            if not (folder / name).is_file() or (folder / name).read_text("utf-8") != text
        ]
        for path in stale:
            print(
                f"{path} is stale: it differs from the Python structs. "
                "Run `shisho-jobs typegen` and commit the result.",
                file=sys.stderr,
            )
        for path in leftovers:
            print(
                f"{path} is stale: it is no longer generated. "
                "Run `shisho-jobs typegen` and commit the result.",
                file=sys.stderr,
            )
        return 1 if stale or leftovers else 0
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (folder / name).write_text(text, "utf-8")
        print(f"wrote {folder / name}")
    for path in leftovers:
        path.unlink()
        print(f"removed {path}")
    return 0


def _leftover_files(folder: Path, rendered: Mapping[str, str]) -> list[Path]:
    """Files of an earlier generation that this one no longer writes (only ours, by header)."""
    if not folder.is_dir():
        return []
    return [
        path
        for path in sorted(folder.glob("*.ts"))
        if path.name not in rendered and path.read_text("utf-8").startswith(HEADER)
    ]
