"""Zip bombs in a library: each is one warning, the scan completes, and the scanning
process grows by less than 100 MB (measured in a process of its own, as an operator sees it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from library_host.sample_data import write_books
from shisho_jobs import Library
from shisho_jobs.enums import JobStatus, LogLevel

from .conftest import Scans, url_text
from .hostile_files import lying_epub, many_entries_cbz

MB = 1_000_000
MAX_GROWTH_BYTES = 100 * MB
PROBE = Path(__file__).with_name("scan_memory_probe.py")
PROBE_DEADLINE = 240.0  # seconds for the probe process: start, scan, stop

BOMBS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "deflate member lying about its size": (
        "bomb-deflate.epub",
        lambda path: lying_epub(path, zipfile.ZIP_DEFLATED),
    ),
    "bzip2 member": ("bomb-bzip2.epub", lambda path: lying_epub(path, zipfile.ZIP_BZIP2)),
    "LZMA member": ("bomb-lzma.epub", lambda path: lying_epub(path, zipfile.ZIP_LZMA)),
    # About 130 MB of zipfile's entry objects if all were loaded.
    "400,000 entries": ("bomb-entries.cbz", lambda path: many_entries_cbz(path, 400_000)),
}


@pytest.fixture(scope="session")
def bomb_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The bomb of a kind, made once per test run (making one takes seconds)."""
    made: dict[str, Path] = {}

    def bomb(kind: str) -> Path:
        if kind not in made:
            name, make = BOMBS[kind]
            made[kind] = make(tmp_path_factory.mktemp("bombs") / name)
        return made[kind]

    return bomb


def _scan_growth(database_url: str | sa.URL, job_id: int) -> int:
    """Run job ``job_id`` in a probe process; how many bytes its peak resident size grew."""
    completed = subprocess.run(
        [sys.executable, str(PROBE), url_text(database_url), str(job_id)],
        capture_output=True,
        text=True,
        timeout=PROBE_DEADLINE,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    growth: int = json.loads(completed.stdout.splitlines()[-1])["growth_bytes"]
    return growth


@pytest.mark.parametrize("kind", list(BOMBS))
def test_zip_bomb_is_one_warning_and_the_scan_stays_small(
    kind: str,
    bomb_file: Callable[[str], Path],
    database_url: str | sa.URL,
    library: Library,
    scans: Scans,
) -> None:
    assert library.path is not None
    folder = Path(library.path)
    write_books(folder, 2)
    name = BOMBS[kind][0]
    shutil.copyfile(bomb_file(kind), folder / name)
    job = scans.create()

    growth = _scan_growth(database_url, job.id)

    finished = scans.service.retrieve_job(job.id)
    assert (finished.status, finished.error) == (JobStatus.COMPLETED, None)
    warnings = scans.logs(finished, LogLevel.WARN)
    assert [line.data["path"] for line in warnings if line.data] == [name]
    assert warnings[0].message.startswith(f"Skipped unreadable file {name}: ")
    assert scans.summary(finished)["added"] == 2
    assert growth < MAX_GROWTH_BYTES, f"the scan grew by {growth / MB:.0f} MB"
