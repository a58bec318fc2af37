"""Changes jobs from a process of its own, like a worker on another host would.

Usage: python job_writer.py DATABASE_URL STEP [STEP ...]
Steps: ``scan:<library>`` runs a scan's life (created, in_progress, 50 %, completed);
``export:<library or global>`` creates a finished export. Prints each job id.
"""

from __future__ import annotations

import sys

import msgspec

from shisho_jobs import Database, JobService, JobStatus, get_plugin_manager


def run_steps(database: Database, steps: list[str]) -> list[int]:
    """Run ``steps``; returns the ids of the jobs they made."""
    service = JobService(database, plugin_manager=get_plugin_manager(load_entry_points=False))
    ids = []
    for step in steps:
        kind, _, scope = step.partition(":")
        library_id = None if scope == "global" else int(scope)
        if kind == "scan":
            job = service.create_job("scan", library_id=library_id)
            job = service.update_job(
                msgspec.structs.replace(job, status=JobStatus.IN_PROGRESS), columns=["status"]
            )
            job = service.update_job(
                msgspec.structs.replace(job, progress=50), columns=["progress"]
            )
            job = service.update_job(
                msgspec.structs.replace(job, status=JobStatus.COMPLETED, progress=100),
                columns=["status", "progress"],
            )
        else:
            job = service.create_job("export", library_id=library_id, status=JobStatus.COMPLETED)
        ids.append(job.id)
    return ids


def main(url: str, steps: list[str]) -> None:
    database = Database(url)
    for job_id in run_steps(database, steps):
        print(job_id, flush=True)
    database.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
