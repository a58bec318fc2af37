"""``shisho-jobs typegen``: TypeScript types of the jobs API generated from the msgspec structs."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import msgspec
import pytest

from shisho_jobs import dto, filters
from shisho_jobs.cli import main
from shisho_jobs.typegen import (
    TYPE_FILES,
    TypeFile,
    TypegenError,
    render_files,
    run_typegen_command,
)

COMMITTED = Path(__file__).resolve().parents[2] / "frontend_snippets" / "types" / "generated"


class Job(dto.Job, frozen=True, kw_only=True, omit_defaults=True):
    """A job as the API shows it, with a field added since the types were generated."""

    priority: int = 0
    """Higher runs first."""


def _with_type(files: tuple[TypeFile, ...], old: type, new: type) -> tuple[TypeFile, ...]:
    return tuple(
        dataclasses.replace(f, types=tuple(new if t is old else t for t in f.types)) for f in files
    )


def test_generation_is_deterministic(tmp_path: Path) -> None:
    assert run_typegen_command(str(tmp_path / "a"), check=False) == 0
    assert run_typegen_command(str(tmp_path / "b"), check=False) == 0
    names = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert names == ["index.ts", "jobs.ts", "models.ts"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_committed_types_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_typegen_command(str(COMMITTED), check=True) == 0, capsys.readouterr().err


def test_every_field_of_the_api_structs_is_typed() -> None:
    rendered = render_files()
    models, jobs = rendered["models.ts"], rendered["jobs.ts"]
    for struct, text in (
        (dto.Job, models),
        (dto.JobLog, models),
        (dto.CreateJobPayload, jobs),
        (filters.ListJobsQuery, jobs),
        (dto.ListJobsResponse, jobs),
        (dto.ListJobLogsResponse, jobs),
    ):
        assert f"export interface {struct.__name__} {{" in text
        for field in msgspec.structs.fields(struct):
            assert f"  {field.encode_name}" in text, (struct.__name__, field.encode_name)
    # What a TypeScript user relies on: the payload union, omitted-when-null fields, status values.
    assert "  data: JobData;\n" in models
    assert "  library_id?: number;\n" in models
    assert "export type JobData = JobScanData | JobExportData | Record<string, unknown>;" in models
    assert '  InProgress: "in_progress",\n' in models
    assert "  library_id?: number | null;\n" in jobs
    assert 'import type { Job, JobData, JobLog, JobStatus } from "./models";' in jobs
    assert '  StatusChanged: "job.status_changed",\n' in jobs


def test_a_changed_struct_makes_check_fail_naming_the_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(COMMITTED, tmp_path, dirs_exist_ok=True)
    changed = _with_type(TYPE_FILES, dto.Job, Job)
    assert (
        "  /** Higher runs first. Default: `0`. */\n  priority?: number;\n"
        in (render_files(changed)["models.ts"])
    )

    assert run_typegen_command(str(tmp_path), check=True, files=changed) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'models.ts'} is stale" in err
    assert "jobs.ts" not in err
    assert "Run `shisho-jobs typegen`" in err

    assert run_typegen_command(str(tmp_path), check=False, files=changed) == 0
    assert run_typegen_command(str(tmp_path), check=True, files=changed) == 0


def test_check_fails_when_a_file_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(COMMITTED, tmp_path, dirs_exist_ok=True)
    (tmp_path / "index.ts").unlink()
    assert run_typegen_command(str(tmp_path), check=True) == 1
    assert f"{tmp_path / 'index.ts'} is stale" in capsys.readouterr().err


class Attempt(msgspec.Struct, frozen=True, omit_defaults=True):
    """One run of a job."""

    worker: str
    """The worker's process id."""
    error: str | None = None


class JobWithAttempts(dto.Job, frozen=True, kw_only=True, omit_defaults=True):
    """A job with a nested struct."""

    attempts: list[Attempt] = msgspec.field(default_factory=list)


def test_a_nested_struct_is_declared_after_the_listed_types() -> None:
    files = _with_type(TYPE_FILES, dto.JobLog, JobWithAttempts)
    models = render_files(files)["models.ts"]
    assert "  attempts?: Attempt[];\n" in models
    assert models.index("export interface JobWithAttempts {") < models.index(
        "/** One run of a job. */\nexport interface Attempt {\n"
        "  /** The worker's process id. */\n  worker: string;\n  error?: string;\n}\n"
    )
    assert models.count("export const JobStatus =") == 1


def test_a_file_no_longer_generated_is_stale_then_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(COMMITTED, tmp_path, dirs_exist_ok=True)
    fewer = (TYPE_FILES[0],)
    assert run_typegen_command(str(tmp_path), check=True, files=fewer) == 1
    assert f"{tmp_path / 'jobs.ts'} is stale: it is no longer generated" in capsys.readouterr().err
    (tmp_path / "host.ts").write_text("export type Mine = string;\n", "utf-8")
    assert run_typegen_command(str(tmp_path), check=False, files=fewer) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["host.ts", "index.ts", "models.ts"]


def test_a_payload_override_without_its_field_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Renamed(msgspec.Struct):
        payload: dict[str, int]

    Renamed.__name__ = "Job"
    files = _with_type(TYPE_FILES, dto.Job, Renamed)
    with pytest.raises(TypegenError, match="match no field"):
        render_files(files)
    assert run_typegen_command(str(tmp_path), check=False, files=files) == 2
    assert "field type overrides match no field" in capsys.readouterr().err
    assert not tmp_path.joinpath("models.ts").exists()


def test_cli_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    assert main(["typegen", "--out", str(out)]) == 0
    assert f"wrote {out / 'models.ts'}" in capsys.readouterr().out
    assert main(["typegen", "--check", "--out", str(out)]) == 0
    (out / "jobs.ts").write_text("// edited by hand\n", "utf-8")
    assert main(["typegen", "--check", "--out", str(out)]) == 1
    assert f"{out / 'jobs.ts'} is stale" in capsys.readouterr().err
