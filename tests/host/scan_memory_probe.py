"""Run one queued scan job in a worker of this process and print how much the process grew.

``python scan_memory_probe.py DATABASE_URL JOB_ID`` prints ``{"growth_bytes": N}``:
the peak resident size (``ru_maxrss``) after the job finished, less the peak before
the worker started. Run in a subprocess of its own, so the figure is that of one
scanning process as the operator would see it, and nothing of the test runner's.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

DEADLINE = 120.0  # seconds the scan gets
POLL = 0.05  # seconds between two looks at the job


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def main() -> int:
    """Run the job given on the command line; print the growth as JSON."""
    url, job_id = sys.argv[1], int(sys.argv[2])
    os.environ["SHISHO_DATABASE_URL"] = url  # where the host's hooks find the catalogue
    # Everything the scan will import, imported before the baseline is taken and after
    # SHISHO_DATABASE_URL is set (the host's modules read it), hence inside main().
    import library_host.archives  # noqa: PLC0415
    import library_host.bookfiles  # noqa: PLC0415
    import library_host.hooks  # noqa: F401, PLC0415
    from library_host.database import get_database  # noqa: PLC0415
    from shisho_jobs import JobService, Worker, get_plugin_manager  # noqa: PLC0415

    database = get_database(url)
    plugins = get_plugin_manager(load_entry_points=False, plugins=["library_host.hooks"])
    service = JobService(database, plugin_manager=plugins)
    assert service.retrieve_job(job_id).is_active
    baseline = _peak_rss_bytes()
    worker = Worker(database, plugin_manager=plugins, poll_interval=POLL)
    worker.start()
    try:
        deadline = time.monotonic() + DEADLINE
        while service.retrieve_job(job_id).is_active:
            if time.monotonic() > deadline:
                print(json.dumps({"error": f"job {job_id} still running after {DEADLINE} s"}))
                return 1
            time.sleep(POLL)
    finally:
        worker.stop(timeout=DEADLINE)
    print(json.dumps({"growth_bytes": _peak_rss_bytes() - baseline}))
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
