"""Odd entries in a library's folder: names that are not UTF-8, link loops, FIFOs, sockets,
devices and links leaving the library. Each is one warning naming it; the scan completes."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from library_host.models import books
from library_host.sample_data import epub_bytes, write_books
from shisho_jobs import Database, Job, Library
from shisho_jobs.enums import JobStatus, LogLevel

from .conftest import Scans


def _folder(library: Library) -> Path:
    assert library.path is not None
    return Path(library.path)


def _catalogued(database: Database) -> set[str]:
    with database.read() as session:
        return set(session.scalars(sa.select(books.c.path)))


def _warnings(scans: Scans, job: Job) -> dict[str, str]:
    """The scan's warnings: the path each names, and its message."""
    lines = scans.logs(job, LogLevel.WARN)
    shown = {line.data["path"]: line.message for line in lines if line.data}
    assert len(shown) == len(lines), "one warning per entry, each naming its path"
    return shown


def _completed(job: Job) -> None:
    assert (job.status, job.error) == (JobStatus.COMPLETED, None)


def test_file_name_that_is_not_utf8_is_one_warning_with_its_bytes_escaped(
    host_database: Database, library: Library, scans: Scans
) -> None:
    write_books(_folder(library), 2)
    raw_name = os.fsencode(_folder(library)) + b"/bad\xff-name.epub"
    Path(os.fsdecode(raw_name)).write_bytes(epub_bytes("Bad Name", "Someone", "id-bad"))

    job = scans.scan()

    _completed(job)
    warnings = _warnings(scans, job)
    assert list(warnings) == ["bad\\xff-name.epub"]
    assert warnings["bad\\xff-name.epub"].startswith("Skipped unreadable file bad\\xff-name.epub")
    assert len(_catalogued(host_database)) == 2


def test_folder_name_that_is_not_utf8_is_escaped_in_its_books_warnings(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = Path(os.fsdecode(os.fsencode(_folder(library)) + b"/caf\xe9"))
    write_books(folder, 1)

    job = scans.scan()

    _completed(job)
    [path] = _warnings(scans, job)
    assert path.startswith("caf\\xe9/")
    assert _catalogued(host_database) == set()


def _symlink_loop(folder: Path) -> str:
    (folder / "loop.epub").symlink_to("loop.epub")
    return "loop.epub"


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.epub")
    return "pipe.epub"


def _socket(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # Relative to the folder: a socket's path may not be longer than 107 bytes.
    monkeypatch.chdir(folder)
    server = socket.socket(socket.AF_UNIX)
    server.bind("socket.cbz")
    server.close()  # the socket file stays
    return "socket.cbz"


def _device(folder: Path) -> str:
    try:
        os.mknod(folder / "null.pdf", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD")
    return "null.pdf"


def _broken_link(folder: Path) -> str:
    (folder / "gone.epub").symlink_to(folder / "never-there.epub")
    return "gone.epub"


ODD_ENTRIES: dict[str, tuple[Callable[[Path], str], str]] = {
    "symlink loop": (_symlink_loop, "Too many levels of symbolic links"),
    "FIFO": (_fifo, "it is not a regular file (a FIFO)"),
    "character device": (_device, "it is not a regular file (a character device)"),
    "broken link": (_broken_link, "it is a broken link"),
}


@pytest.mark.parametrize("kind", list(ODD_ENTRIES))
def test_odd_entry_is_one_warning_and_the_scan_completes(
    kind: str, host_database: Database, library: Library, scans: Scans
) -> None:
    write_books(_folder(library), 2)
    make, reason = ODD_ENTRIES[kind]
    name = make(_folder(library))

    job = scans.scan()

    _completed(job)
    assert _warnings(scans, job) == {name: f"Skipped unreadable file {name}: {reason}"}
    assert len(_catalogued(host_database)) == 2
    summary = scans.summary(job)
    assert (summary["files"], summary["added"], summary["unreadable"]) == (3, 2, 1)


def test_socket_is_one_warning_and_the_scan_completes(
    host_database: Database, library: Library, scans: Scans, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_books(_folder(library), 1)
    name = _socket(_folder(library), monkeypatch)

    job = scans.scan()

    _completed(job)
    assert _warnings(scans, job) == {
        name: f"Skipped unreadable file {name}: it is not a regular file (a socket)"
    }
    assert len(_catalogued(host_database)) == 1


def test_link_out_of_the_library_is_not_imported(
    host_database: Database, library: Library, scans: Scans, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secret = elsewhere / "private.epub"
    secret.write_bytes(epub_bytes("Private Papers", "The Server's Owner", "id-secret"))
    (_folder(library) / "leak.epub").symlink_to(secret)
    (_folder(library) / "via-parent.epub").symlink_to("../elsewhere/private.epub")

    job = scans.scan()

    _completed(job)
    reason = "it links outside the library's folder; such links are not followed"
    assert _warnings(scans, job) == {
        name: f"Skipped unreadable file {name}: {reason}"
        for name in ("leak.epub", "via-parent.epub")
    }
    assert _catalogued(host_database) == set()
    assert str(elsewhere) not in " ".join(_warnings(scans, job).values())


def test_book_replaced_by_a_link_out_of_the_library_is_removed(
    host_database: Database, library: Library, scans: Scans, tmp_path: Path
) -> None:
    [book] = write_books(_folder(library), 1)
    scans.scan()
    outside = tmp_path / "outside.epub"
    outside.write_bytes(epub_bytes("Not Yours", "Someone", "id-outside"))
    (_folder(library) / book.relative_path).unlink()
    (_folder(library) / book.relative_path).symlink_to(outside)

    job = scans.scan()

    _completed(job)
    assert list(_warnings(scans, job)) == [book.relative_path]
    assert scans.summary(job)["removed"] == 1
    assert _catalogued(host_database) == set()


def test_links_inside_the_library_are_followed_to_files_not_to_folders(
    host_database: Database, library: Library, scans: Scans
) -> None:
    folder = _folder(library)
    [book] = write_books(folder / "Authors", 1)
    (folder / "Favourites").mkdir()
    (folder / "Favourites" / "best.epub").symlink_to(Path("..") / "Authors" / book.relative_path)
    (folder / "Shelf").symlink_to("Authors")

    job = scans.scan()

    _completed(job)
    assert _catalogued(host_database) == {f"Authors/{book.relative_path}", "Favourites/best.epub"}
    assert _warnings(scans, job) == {
        "Shelf": "Skipped linked folder Shelf: links to folders are not followed; "
        "move the folder into the library instead"
    }


def test_book_whose_file_turned_into_a_link_loop_is_kept(
    host_database: Database, library: Library, scans: Scans
) -> None:
    [book] = write_books(_folder(library), 1)
    scans.scan()
    path = _folder(library) / book.relative_path
    path.unlink()
    path.symlink_to(path.name)

    job = scans.scan()

    _completed(job)
    assert _warnings(scans, job) == {
        book.relative_path: f"Skipped unreadable file {book.relative_path}: "
        "Too many levels of symbolic links; its book is kept as it was"
    }
    assert _catalogued(host_database) == {book.relative_path}
    assert scans.summary(job)["removed"] == 0
