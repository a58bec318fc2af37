"""A ``bench_noop`` job type for bench/worker.py (``--plugin shisho_bench_noop``)."""

from __future__ import annotations

import msgspec

from shisho_jobs import JobTypeSpec, hookimpl
from shisho_jobs.context import JobContext

NOOP_TYPE = "bench_noop"


class NoopData(msgspec.Struct):
    """No payload."""


def run_noop(context: JobContext) -> None:
    """Do nothing: the benchmark measures the queue, not the work."""


@hookimpl
def job_types() -> list[JobTypeSpec]:
    return [JobTypeSpec(name=NOOP_TYPE, payload_type=NoopData, handler=run_noop)]
