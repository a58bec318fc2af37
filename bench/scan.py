"""Scanner speed: an unchanged rescan of a 100,000-file library against a bare walk.

Figures (printed and written to bench/results/scan.json):

* ``bare_walk_100k_s``: ``os.scandir`` + ``stat`` of every file of the tree, no database.
* ``initial_scan_100k_s`` / ``unchanged_rescan_100k_s``: the ``scan`` job of that library run
  by a real ``shisho_jobs.Worker`` (from the job's ``started_at`` to ``finished_at``).
  Target: the unchanged rescan at least half the bare walk's speed (ratio <= 2).
* ``small_alone_s`` / ``small_beside_100k_s``: an unchanged resync of a 1,000-file library in
  a database of its own, and in the database that also holds the 100,000 books.
  Target: beside within 2x of alone.

The big library is made of tiny PDF files (a header each) so that generating it and the
first scan stay quick; the rescan never opens a file, whatever its format. The tree is
kept under bench/data/ (git-ignored) and reused by later runs.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from library_host import catalog, migrate
from library_host.database import get_database
from library_host.sample_data import write_books
from shisho_jobs import Database, JobService, Worker, get_plugin_manager

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "scan"
RESULTS = HERE / "results" / "scan.json"
BIG_FILES = 100_000
FILES_PER_FOLDER = 100
SMALL_FILES = 1_000
RESCANS = 5
"""Each figure is the best of this many runs: the machine is shared, the best run is the
least disturbed one."""
DEADLINE = 600.0  # seconds for one scan


def _make_big_tree(root: Path) -> None:
    marker = root.with_name(f"{root.name}.complete")
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    for folder_number in range(BIG_FILES // FILES_PER_FOLDER):
        folder = root / f"author-{folder_number:04d}"
        folder.mkdir(parents=True)
        for number in range(FILES_PER_FOLDER):
            (folder / f"book-{number:03d}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    marker.touch()


def _make_small_tree(root: Path) -> None:
    marker = root.with_name(f"{root.name}.complete")
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    write_books(root, SMALL_FILES, seed=7)
    marker.touch()


def bare_walk(root: Path) -> int:
    """Count files under ``root`` with ``os.scandir`` and one ``stat`` each (the baseline)."""
    count = 0
    pending = [str(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    entry.stat()
                    count += 1
    return count


def _best_time(function: Any, *args: Any, repeat: int = RESCANS) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _fresh_database(path: Path) -> Database:
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    # The host's hooks (the scanner) use the configured database.
    os.environ["SHISHO_DATABASE_URL"] = url
    return get_database(url)


def _run_scan(service: JobService, library_id: int) -> float:
    """Seconds the worker spent on one scan of ``library_id``."""
    job = service.create_job("scan", library_id=library_id)
    deadline = time.monotonic() + DEADLINE
    while (job := service.retrieve_job(job.id)).is_active:
        if time.monotonic() > deadline:
            raise SystemExit(f"scan {job.id} did not finish within {DEADLINE} s")
        time.sleep(0.01)
    if job.status != "completed" or job.started_at is None or job.finished_at is None:
        raise SystemExit(f"scan {job.id} ended {job.status}: {job.error}")
    return (job.finished_at - job.started_at).total_seconds()


def _scans(database: Database, library_id: int, count: int) -> list[float]:
    manager = get_plugin_manager(load_entry_points=False, plugins=["library_host.hooks"])
    service = JobService(database, plugin_manager=manager)
    worker = Worker(database, plugin_manager=manager)
    worker.start()
    try:
        return [_run_scan(service, library_id) for _ in range(count)]
    finally:
        worker.stop()


def main() -> int:
    big_dir, small_dir = DATA / "big", DATA / "small"
    print(f"preparing {BIG_FILES} + {SMALL_FILES} files under {DATA} ...", flush=True)
    _make_big_tree(big_dir)
    _make_small_tree(small_dir)

    assert bare_walk(big_dir) == BIG_FILES
    bare_big_before = _best_time(bare_walk, big_dir)
    bare_small = _best_time(bare_walk, small_dir)

    alone = _fresh_database(DATA / "alone.db")
    catalog.ensure_library(alone, 2, "Small", str(small_dir))
    small_alone = _scans(alone, 2, 1 + RESCANS)[1:]
    alone.dispose()

    beside = _fresh_database(DATA / "beside.db")
    catalog.ensure_library(beside, 1, "Big", str(big_dir))
    catalog.ensure_library(beside, 2, "Small", str(small_dir))
    big_scans = _scans(beside, 1, 1 + RESCANS)
    small_beside = _scans(beside, 2, 1 + RESCANS)[1:]
    beside.dispose()
    # Measured before and after the scans, so a busy spell hits both sides alike.
    bare_big = min(bare_big_before, _best_time(bare_walk, big_dir))

    results = {
        "files_big": BIG_FILES,
        "files_small": SMALL_FILES,
        "bare_walk_100k_s": round(bare_big, 4),
        "initial_scan_100k_s": round(big_scans[0], 4),
        "unchanged_rescan_100k_s": round(min(big_scans[1:]), 4),
        "unchanged_rescan_100k_median_s": round(statistics.median(big_scans[1:]), 4),
        "rescan_vs_bare_walk_ratio": round(min(big_scans[1:]) / bare_big, 2),
        "bare_walk_1k_s": round(bare_small, 4),
        "small_alone_s": round(min(small_alone), 4),
        "small_beside_100k_s": round(min(small_beside), 4),
        "small_beside_vs_alone_ratio": round(min(small_beside) / min(small_alone), 2),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    for name, value in results.items():
        print(f"{name:34} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
