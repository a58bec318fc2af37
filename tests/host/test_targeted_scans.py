"""Targeted scans (a watch scan's ``paths``) and the mass-removal guard, run by a real worker.

A targeted scan reads and removes only inside its paths; a book elsewhere whose file is
gone stays until a full scan. Scans that start by themselves (watch, schedule) never
remove more than half of a library; one started by hand does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from library_host.models import books
from library_host.sample_data import epub_bytes
from shisho_jobs import Database, Job, Library
from shisho_jobs.enums import JobStatus, LogLevel

from .conftest import Scans


def _titles(database: Database) -> dict[str, str]:
    with database.read() as session:
        return {
            path: title for path, title in session.execute(sa.select(books.c.path, books.c.title))
        }


def _folder(library: Library) -> Path:
    assert library.path is not None
    return Path(library.path)


def _write(folder: Path, relative: str, title: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(epub_bytes(title, "Author", relative))


def _scan(scans: Scans, data: dict[str, object], trigger: str = "manual") -> Job:
    job = scans.service.create_job("scan", data, library_id=1, trigger=trigger)
    return scans.run(job)


def _shelf(folder: Path, count: int) -> None:
    for number in range(count):
        _write(folder, f"Shelf/Book {number}.epub", f"Book {number}")


def test_a_targeted_scan_reads_only_its_paths(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    _write(folder, "Austen/Emma.epub", "Emma")
    _write(folder, "Bronte/Jane Eyre.epub", "Jane Eyre")
    scans.scan()
    _write(folder, "Austen/Persuasion.epub", "Persuasion")
    _write(folder, "Bronte/Villette.epub", "Villette")  # not in the paths: not read yet
    (folder / "Bronte" / "Jane Eyre.epub").unlink()  # not in the paths: kept for now

    job = _scan(scans, {"paths": ["Austen/Persuasion.epub"]})

    assert job.status == JobStatus.COMPLETED
    assert _titles(host_database) == {
        "Austen/Emma.epub": "Emma",
        "Austen/Persuasion.epub": "Persuasion",
        "Bronte/Jane Eyre.epub": "Jane Eyre",
    }
    summary = scans.summary(job)
    assert (summary["files"], summary["added"], summary["removed"]) == (1, 1, 0)
    scans.scan()  # a full scan sees the rest
    assert set(_titles(host_database)) == {
        "Austen/Emma.epub",
        "Austen/Persuasion.epub",
        "Bronte/Villette.epub",
    }


def test_a_targeted_scan_removes_inside_its_paths_and_follows_moves(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    _write(folder, "Dickens/Bleak House.epub", "Bleak House")
    _write(folder, "Dickens/Hard Times.epub", "Hard Times")
    _write(folder, "Eliot/Middlemarch.epub", "Middlemarch")
    _write(folder, "Hardy/Tess.epub", "Tess")
    scans.scan()
    shutil.rmtree(folder / "Dickens")
    (folder / "Eliot" / "Middlemarch.epub").rename(folder / "Hardy" / "Middlemarch.epub")

    job = _scan(scans, {"paths": ["Dickens", "Eliot/Middlemarch.epub", "Hardy/Middlemarch.epub"]})

    summary = scans.summary(job)
    assert (summary["added"], summary["removed"]) == (1, 3)
    assert _titles(host_database) == {
        "Hardy/Middlemarch.epub": "Middlemarch",
        "Hardy/Tess.epub": "Tess",
    }


def test_a_targeted_folder_is_walked_whole_and_links_are_not(
    host_database: Database, library: Library, scans: Scans, tmp_path: Path
) -> None:
    folder = _folder(library)
    _write(folder, "New/Series/One.epub", "One")
    _write(folder, "New/Series/Two.epub", "Two")
    _write(folder, "New/.hidden/Three.epub", "Three")
    outside = tmp_path / "outside"
    _write(outside, "Secret.epub", "Secret")
    (folder / "Linked").symlink_to(outside, target_is_directory=True)

    job = _scan(scans, {"paths": ["New", "Linked/Secret.epub", "Linked", "New/.hidden"]})

    assert job.status == JobStatus.COMPLETED
    assert set(_titles(host_database)) == {"New/Series/One.epub", "New/Series/Two.epub"}


def test_a_watch_scan_never_removes_more_than_half_of_a_library(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    _shelf(folder, 6)
    scans.scan()
    for number in range(4):  # as if part of the drive were not mounted
        (folder / "Shelf" / f"Book {number}.epub").unlink()

    job = _scan(scans, {"paths": ["Shelf"]}, trigger="watch")

    assert job.status == JobStatus.COMPLETED
    assert len(_titles(host_database)) == 6
    assert scans.summary(job)["removed"] == 0
    (warning,) = [line for line in scans.logs(job, LogLevel.WARN) if "Kept 4" in line.message]
    assert "start a scan by hand" in warning.message


def test_a_scheduled_scan_is_guarded_too_and_a_manual_one_removes(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    _shelf(folder, 4)
    scans.scan()
    shutil.rmtree(folder / "Shelf")
    _write(folder, "Other/Kept.epub", "Kept")

    scheduled = _scan(scans, {}, trigger="schedule")
    assert scans.summary(scheduled)["removed"] == 0
    assert len(_titles(host_database)) == 5

    manual = _scan(scans, {})
    assert scans.summary(manual)["removed"] == 4
    assert set(_titles(host_database)) == {"Other/Kept.epub"}


def test_a_watch_scan_removes_a_few_books(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    _shelf(folder, 6)
    scans.scan()
    (folder / "Shelf" / "Book 0.epub").unlink()

    job = _scan(scans, {"paths": ["Shelf/Book 0.epub"]}, trigger="watch")

    assert scans.summary(job)["removed"] == 1
    assert len(_titles(host_database)) == 5
