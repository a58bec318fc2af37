"""The scan_library implementation: catalogue, rescan, removal, warnings, cancellation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from library_host import catalog
from library_host.models import books
from library_host.sample_data import write_books, write_comics
from library_host.scanner import LibraryFolderMissing, scan_library_folder
from shisho_jobs import Database, Library
from shisho_jobs.context import JobFailed
from shisho_jobs.enums import LogLevel

from .conftest import ScanRun


def _catalogue(database: Database) -> dict[str, tuple[str, str | None, str]]:
    with database.read() as session:
        rows = session.execute(
            sa.select(books.c.path, books.c.title, books.c.author, books.c.format)
        )
        return {path: (title, author, fmt) for path, title, author, fmt in rows}


def _folder(library: Library) -> Path:
    assert library.path is not None
    return Path(library.path)


def test_first_scan_catalogues_every_book_with_its_metadata(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    written = write_books(_folder(library), 12)
    comics = write_comics(_folder(library) / "Comics", 3)
    (_folder(library) / "Notes.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (_folder(library) / "cover.jpg").write_bytes(b"\xff\xd8")  # not a book: ignored

    summary = scan_library_folder(host_database, library, scan_run.context)

    catalogue = _catalogue(host_database)
    assert summary.added == 16 and summary.files == 16
    for book in written:
        assert catalogue[book.relative_path] == (book.title, book.author, "epub")
    assert catalogue[f"Comics/{comics[0].relative_path}"][0] == comics[0].title
    assert catalogue["Notes.pdf"] == ("Notes", None, "pdf")
    assert scan_run.sink.progress[-1] == 100
    assert scan_run.sink.progress == sorted(scan_run.sink.progress)


def test_unchanged_rescan_reads_and_writes_nothing(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    write_books(_folder(library), 8)
    scan_library_folder(host_database, library, scan_run.context)
    with host_database.read() as session:
        scanned_at = session.scalars(sa.select(books.c.scanned_at).order_by(books.c.id)).all()

    summary = scan_library_folder(host_database, library, scan_run.context)

    assert (summary.unchanged, summary.added, summary.updated, summary.removed) == (8, 0, 0, 0)
    with host_database.read() as session:
        assert (
            session.scalars(sa.select(books.c.scanned_at).order_by(books.c.id)).all() == scanned_at
        )


def test_changed_file_is_read_again_and_vanished_file_removed(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    written = write_books(_folder(library), 3)
    scan_library_folder(host_database, library, scan_run.context)
    from library_host.sample_data import epub_bytes

    changed = _folder(library) / written[0].relative_path
    changed.write_bytes(epub_bytes("A New Edition", "Someone Else", "id-new"))
    os.utime(changed, ns=(1_000_000_000, 1_000_000_000))
    (_folder(library) / written[1].relative_path).unlink()

    summary = scan_library_folder(host_database, library, scan_run.context)

    catalogue = _catalogue(host_database)
    assert (summary.updated, summary.removed, summary.unchanged) == (1, 1, 1)
    assert catalogue[written[0].relative_path] == ("A New Edition", "Someone Else", "epub")
    assert written[1].relative_path not in catalogue


def test_force_rereads_unchanged_files(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    write_books(_folder(library), 4)
    scan_library_folder(host_database, library, scan_run.context)

    summary = scan_library_folder(host_database, library, scan_run.context, force=True)

    assert (summary.updated, summary.unchanged) == (4, 0)


def test_unreadable_file_is_a_warning_not_a_failure(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    write_books(_folder(library), 2)
    (_folder(library) / "Damaged.epub").write_bytes(b"cut short")

    summary = scan_library_folder(host_database, library, scan_run.context)

    assert (summary.added, summary.unreadable) == (2, 1)
    warnings = scan_run.sink.messages(LogLevel.WARN)
    assert len(warnings) == 1 and "Damaged.epub" in warnings[0]
    assert "Damaged.epub" not in _catalogue(host_database)


def test_missing_folder_fails_the_scan_with_a_clear_message(
    host_database: Database, tmp_path: Path, scan_run: ScanRun
) -> None:
    gone = tmp_path / "unplugged-drive"
    catalog.ensure_library(host_database, 2, "Broken", str(gone))
    broken = catalog.get_library(host_database, 2)
    assert broken is not None

    with pytest.raises(LibraryFolderMissing) as failure:
        scan_library_folder(host_database, broken, scan_run.context)

    assert isinstance(failure.value, JobFailed)
    assert str(gone) in str(failure.value) and "does not exist" in str(failure.value)


def test_cancelled_scan_stops_and_removes_nothing(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    written = write_books(_folder(library), 5)
    scan_library_folder(host_database, library, scan_run.context)
    (_folder(library) / written[0].relative_path).unlink()
    write_books(_folder(library) / "more", 5, seed=9)
    scan_run.cancellation.set("shutdown")

    summary = scan_library_folder(host_database, library, scan_run.context)

    assert summary.cancelled
    assert summary.added == 0 and summary.removed == 0
    assert written[0].relative_path in _catalogue(host_database)


def test_batches_larger_than_one_write_are_all_stored(
    host_database: Database, library: Library, scan_run: ScanRun
) -> None:
    folder = _folder(library)
    for number in range(1234):
        (folder / f"doc-{number:04d}.pdf").write_bytes(b"%PDF-1.4\n")

    summary = scan_library_folder(host_database, library, scan_run.context)

    assert summary.added == 1234
    assert len(_catalogue(host_database)) == 1234
