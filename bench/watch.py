"""Folder watching (issue 11): how fast a change becomes a scan, and what watching costs.

Figures (printed and written to bench/results/watch.json):

* (a) ``new_file_to_scan_events_p50_ms`` / ``..._poll_p50_ms``: a new file written into a
  watched library until its scan exists in the database, p50 over 20 runs, minus the quiet
  window (``SHISHO_WATCH_DEBOUNCE_SECONDS``). Target: < 200 ms on events, < one poll interval
  + 200 ms when polling.
* (b) ``targeted_scan_100k_s`` against ``full_rescan_100k_s``: the watch scan of one new file
  in a 100,000-file library (its ``paths``), and an unchanged full rescan, both run by a real
  worker (``started_at`` to ``finished_at``). Target: the targeted scan >= 20x faster.
* (c) ``idle_cpu_percent_events`` / ``_poll``: CPU of a worker process watching those 100,000
  files in 1,000 folders over 60 s with nothing changing, as a share of one core, beside
  ``idle_cpu_percent_unwatched`` (the same worker with watching off); ``watch_rss_mb``: the
  memory watching added. Target: < 1 % of a core on events.
* (d) ``burst_1000_scans``: scans started by a copy of 1,000 files. Target: <= 2.

The 100,000-file tree is bench/scan.py's (bench/data/scan/big, reused).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import scan as scan_bench
from library_host import catalog
from library_host.sample_data import write_books
from shisho_jobs import Database, Job, JobService, ListJobsOptions, Worker, get_plugin_manager
from shisho_jobs.watch import WatchSettings

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "watch"
RESULTS = HERE / "results" / "watch.json"
RUNS = 20  # new files per latency figure
DEBOUNCE = 1.0  # seconds: the quiet window of the latency runs
POLL = 1.0  # seconds between two polls in the polling runs
IDLE_SECONDS = 60.0  # how long the idle worker is measured
BURST_FILES = 1_000
BURST_DEBOUNCE = 2.0  # seconds
TARGETED_RUNS = 5
STEP = 0.002  # seconds between two looks for a new scan
DEADLINE = 900.0  # seconds for any one wait

BIG_ID, SMALL_ID = 1, 2


def _scans(service: JobService) -> list[Job]:
    return service.list_jobs(ListJobsOptions(type="scan", limit=100))


def _newest_scan_id(service: JobService) -> int:
    jobs = _scans(service)
    return max((job.id for job in jobs), default=0)


def _wait_for(check: Any, what: str, step: float = STEP) -> Any:
    deadline = time.monotonic() + DEADLINE
    while not (value := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(step)
    return value


def _idle(service: JobService) -> bool:
    return not service.list_jobs(ListJobsOptions(statuses=["pending", "in_progress"], limit=1))


@contextmanager
def _worker(
    database: Database, watch: WatchSettings, poll_interval: float = 0.05
) -> Iterator[Worker]:
    manager = get_plugin_manager(load_entry_points=False, plugins=["library_host.hooks"])
    worker = Worker(database, plugin_manager=manager, poll_interval=poll_interval, watch=watch)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def _watched(worker: Worker) -> bool:
    health = worker.watch_health()
    return bool(health) and all(h.state in ("events", "poll") for h in health)


def new_file_latency(database: Database, folder: Path, *, polling: bool) -> list[float]:
    """Seconds from writing a new file to its scan existing, minus the debounce, per run."""
    service = JobService(database)
    watch = WatchSettings(
        debounce_seconds=DEBOUNCE, max_wait_seconds=30, poll_seconds=POLL, refresh_seconds=600
    )
    catalog.ensure_library(
        database, SMALL_ID, "Small", str(folder), watch="poll" if polling else "events"
    )
    latencies = []
    with _worker(database, watch) as worker:
        _wait_for(lambda: _watched(worker), "the library watched", step=0.05)
        for run in range(RUNS):
            before = _newest_scan_id(service)
            path = folder / "arrivals" / f"{'poll' if polling else 'events'}-{run:02d}.pdf"
            path.parent.mkdir(exist_ok=True)
            started = time.monotonic()
            path.write_bytes(b"%PDF-1.4\n%%EOF\n")
            _wait_for(
                lambda newest=before: _newest_scan_id(service) > newest, "the scan of a new file"
            )
            latencies.append(time.monotonic() - started - DEBOUNCE)
            _wait_for(lambda: _idle(service), "the scan to finish", step=0.02)
    return latencies


def _scan_seconds(service: JobService, data: dict[str, Any], trigger: str) -> float:
    job = service.create_job("scan", data, library_id=BIG_ID, trigger=trigger)
    while (job := service.retrieve_job(job.id)).is_active:
        time.sleep(0.01)
    if job.status != "completed" or job.started_at is None or job.finished_at is None:
        raise SystemExit(f"scan {job.id} ended {job.status}: {job.error}")
    return (job.finished_at - job.started_at).total_seconds()


def targeted_against_full(database: Database, big: Path) -> tuple[float, float]:
    """Best targeted scan of one new file, best unchanged full rescan (seconds)."""
    service = JobService(database)
    off = WatchSettings(enabled=False)
    with _worker(database, off):
        _scan_seconds(service, {}, "manual")  # the first scan catalogues the library
        full = min(_scan_seconds(service, {}, "manual") for _ in range(3))
        targeted = []
        for run in range(TARGETED_RUNS):
            relative = f"author-0000/new-{run}.pdf"
            (big / relative).write_bytes(b"%PDF-1.4\n%%EOF\n")
            targeted.append(_scan_seconds(service, {"paths": [relative]}, "watch"))
            (big / relative).unlink()
    return min(targeted), full


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_cpu(
    database: Database, big: Path, watch: WatchSettings, mode: str
) -> tuple[float, float, int]:
    """Share of one core the worker used over IDLE_SECONDS, the RSS it added, folders watched."""
    catalog.ensure_library(database, BIG_ID, "Big", str(big), watch=mode)
    rss_before = _rss_mb()
    # The worker's default queue poll (1 s): what an idle worker in production does.
    with _worker(database, watch, poll_interval=1.0) as worker:
        folders = 0
        if watch.enabled:
            _wait_for(lambda: _watched(worker), "the big library watched", step=0.1)
            folders = sum(h.folders for h in worker.watch_health())
        time.sleep(1.0)  # the start-up's own work is not idle time
        cpu_before, wall_before = time.process_time(), time.monotonic()
        time.sleep(IDLE_SECONDS)
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
        rss = _rss_mb() - rss_before
    return 100 * cpu / wall, rss, folders


def burst_scans(database: Database, folder: Path) -> tuple[int, int]:
    """Scans started by a copy of BURST_FILES files, and the books catalogued after it."""
    staging = DATA / "burst-staging"
    shutil.rmtree(staging, ignore_errors=True)
    write_books(staging, BURST_FILES, seed=11)
    service = JobService(database)
    catalog.ensure_library(database, SMALL_ID, "Small", str(folder), watch="events")
    watch = WatchSettings(
        debounce_seconds=BURST_DEBOUNCE, max_wait_seconds=120, refresh_seconds=600
    )
    with _worker(database, watch) as worker:
        _wait_for(lambda: _watched(worker), "the library watched", step=0.05)
        _wait_for(lambda: _idle(service), "no scan running", step=0.05)
        before = _newest_scan_id(service)
        shutil.copytree(staging, folder / "burst")
        # Quiet: every change handed over and every scan finished, for three windows.
        quiet_since = None
        while quiet_since is None or time.monotonic() - quiet_since < 3 * BURST_DEBOUNCE:
            settled = _idle(service) and all(h.pending_changes == 0 for h in worker.watch_health())
            if not settled:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            time.sleep(0.1)
        scans = [job for job in _scans(service) if job.id > before]
    books = len(catalog.list_books(database, SMALL_ID, limit=BURST_FILES * 10)[0])
    shutil.rmtree(folder / "burst")
    return len(scans), books


def main(argv: list[str]) -> int:
    """Run every figure, or only those named (``latency``, ``targeted``, ``idle``, ``burst``),
    keeping the others of the last run in bench/results/watch.json."""
    wanted = set(argv) or {"latency", "targeted", "idle", "burst"}
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    big = HERE / "data" / "scan" / "big"
    small = DATA / "small"
    print(f"preparing the trees ({scan_bench.BIG_FILES} files under {big}) ...", flush=True)
    scan_bench._make_big_tree(big)
    shutil.rmtree(small, ignore_errors=True)
    write_books(small, 100, seed=5)

    if "latency" in wanted:
        latency_db = scan_bench._fresh_database(DATA / "latency.db")
        events = new_file_latency(latency_db, small, polling=False)
        polling = new_file_latency(latency_db, small, polling=True)
        latency_db.dispose()
        results |= {
            "runs": RUNS,
            "debounce_s": DEBOUNCE,
            "new_file_to_scan_events_p50_ms": round(1000 * statistics.median(events), 1),
            "new_file_to_scan_events_max_ms": round(1000 * max(events), 1),
            "poll_interval_s": POLL,
            "new_file_to_scan_poll_p50_ms": round(1000 * statistics.median(polling), 1),
            "new_file_to_scan_poll_max_ms": round(1000 * max(polling), 1),
        }
    big_db = scan_bench._fresh_database(DATA / "big.db")
    catalog.ensure_library(big_db, BIG_ID, "Big", str(big))
    if "targeted" in wanted:
        targeted, full = targeted_against_full(big_db, big)
        results |= {
            "files_big": scan_bench.BIG_FILES,
            "targeted_scan_100k_s": round(targeted, 4),
            "full_rescan_100k_s": round(full, 4),
            "targeted_vs_full_speedup": round(full / targeted, 1),
        }
    if "idle" in wanted:
        unwatched_cpu, _, _ = idle_cpu(big_db, big, WatchSettings(enabled=False), "events")
        events_cpu, events_rss, folders = idle_cpu(big_db, big, WatchSettings(), "events")
        poll_cpu, poll_rss, _ = idle_cpu(big_db, big, WatchSettings(), "poll")
        results |= {
            "idle_seconds": IDLE_SECONDS,
            "watched_folders": folders,
            "idle_cpu_percent_unwatched": round(unwatched_cpu, 2),
            "idle_cpu_percent_events": round(events_cpu, 2),
            "idle_cpu_percent_poll_30s": round(poll_cpu, 2),
            "watch_rss_mb_events": round(events_rss, 1),
            "watch_rss_mb_poll": round(poll_rss, 1),
        }
    big_db.dispose()
    if "burst" in wanted:
        burst_db = scan_bench._fresh_database(DATA / "burst.db")
        burst, burst_books = burst_scans(burst_db, small)
        burst_db.dispose()
        results |= {
            "burst_files": BURST_FILES,
            "burst_1000_scans": burst,
            "burst_books_catalogued": burst_books,
        }
    results |= {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    for name, value in results.items():
        print(f"{name:34} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
