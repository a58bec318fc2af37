"""A stand-in host for worker tests, loaded with ``shisho-jobs worker --plugin shisho_test_host``.

Libraries 1-3 (as in tests/conftest.py). Every scan and every ``noop`` job run
appends a line to ``$SHISHO_TEST_RECORD_DIR/<pid>.log``, so a test can count
what ran where, across processes. While ``$SHISHO_TEST_GATE`` names a file that
does not exist yet, a scan stays "in the middle" until the file appears or the
worker asks it to stop.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import msgspec

from shisho_jobs import JobTypeSpec, Library, hookimpl
from shisho_jobs.context import JobContext

LIBRARIES = {i: Library(id=i, name=f"Library {i}") for i in (1, 2, 3)}
NOOP_TYPE = "noop"
GATE_CHECK_INTERVAL = 0.02  # seconds; the scan's own pace while it waits for the gate


class NoopData(msgspec.Struct, forbid_unknown_fields=True):
    """Payload of a ``noop`` job."""


def record(line: str) -> None:
    """Append ``line`` to this process's record file (if recording is on)."""
    folder = os.environ.get("SHISHO_TEST_RECORD_DIR")
    if folder:
        with (Path(folder) / f"{os.getpid()}.log").open("a") as file:
            file.write(line + "\n")


def read_records(folder: Path) -> list[str]:
    """Every recorded line of every process."""
    return [line for path in sorted(folder.glob("*.log")) for line in path.read_text().split()]


def run_noop(context: JobContext) -> None:
    """Record the run and do nothing else."""
    record(f"noop:{context.job.id}")


@hookimpl
def list_libraries() -> list[Library]:
    return list(LIBRARIES.values())


@hookimpl
def get_library(library_id: int) -> Library | None:
    return LIBRARIES.get(library_id)


@hookimpl
def scan_library(library: Library, context: JobContext) -> dict[str, Any]:
    record(f"scan:{context.job.id}:{library.id}")
    gate = os.environ.get("SHISHO_TEST_GATE")
    steps = 0
    while gate and not Path(gate).exists():
        if context.cancelled:
            return {"interrupted": True}
        steps += 1
        context.progress(min(steps, 50), 100)
        time.sleep(GATE_CHECK_INTERVAL)
    context.progress(1, 1)
    return {"files": 0}


@hookimpl
def job_types() -> list[JobTypeSpec]:
    return [JobTypeSpec(name=NOOP_TYPE, payload_type=NoopData, handler=run_noop)]
