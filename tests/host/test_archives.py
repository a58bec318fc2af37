"""Reading hostile archives and odd files: every failure is an UnreadableBookFile with a reason."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from library_host.archives import MAX_ARCHIVE_ENTRIES
from library_host.bookfiles import UnreadableBookFile, read_metadata
from library_host.sample_data import cbz_bytes, epub_bytes

from .hostile_files import (
    CONTAINER,
    MIB,
    corrupt_member_data,
    honest_many_entries_cbz,
    lying_epub,
    rename_member,
)


@pytest.mark.parametrize(
    ("compression", "method"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_members_compressed_other_than_stored_or_deflated_are_refused(
    tmp_path: Path, compression: int, method: str
) -> None:
    path = lying_epub(tmp_path / "small.epub", compression, inflated=MIB)

    with pytest.raises(UnreadableBookFile) as refused:
        read_metadata(path, "epub")

    assert str(refused.value) == (
        f"{CONTAINER} uses {method} compression; only stored and deflated members are read"
    )


def test_damaged_deflate_data_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "damaged.epub"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONTAINER, "<container>" + " " * 4000 + "</container>")
    corrupt_member_data(path, CONTAINER)

    with pytest.raises(UnreadableBookFile, match="cannot open it"):
        read_metadata(path, "epub")


def test_member_name_flagged_utf8_that_is_not_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "names.cbz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("page-é.jpg", b"")  # non-ASCII: stored with the UTF-8 flag
    rename_member(path, "page-é.jpg", b"page-\xff\xfe.jpg")

    with pytest.raises(UnreadableBookFile, match=r"cannot open it .*utf-8"):
        read_metadata(path, "cbz")


def test_archive_of_too_many_entries_is_refused(tmp_path: Path) -> None:
    fits = honest_many_entries_cbz(tmp_path / "fits.cbz", MAX_ARCHIVE_ENTRIES)
    too_many = honest_many_entries_cbz(tmp_path / "too-many.cbz", MAX_ARCHIVE_ENTRIES + 1)

    assert read_metadata(fits, "cbz").title == "fits"
    with pytest.raises(UnreadableBookFile) as refused:
        read_metadata(too_many, "cbz")
    assert str(refused.value) == (
        f"the archive holds {MAX_ARCHIVE_ENTRIES + 1} entries, "
        f"more than the {MAX_ARCHIVE_ENTRIES} read"
    )


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.epub"
    os.mkfifo(fifo)

    with pytest.raises(UnreadableBookFile, match=r"not a regular file \(a FIFO\)"):
        read_metadata(fifo, "epub")


def test_link_is_not_opened_through(tmp_path: Path) -> None:
    target = tmp_path / "real.cbz"
    target.write_bytes(cbz_bytes(1, seed=1))
    (tmp_path / "link.cbz").symlink_to(target)

    with pytest.raises(UnreadableBookFile, match="symbolic links"):
        read_metadata(tmp_path / "link.cbz", "cbz")


def test_open_error_names_no_server_path(tmp_path: Path) -> None:
    missing = tmp_path / "vanished.epub"

    with pytest.raises(UnreadableBookFile) as refused:
        read_metadata(missing, "epub")

    assert str(refused.value) == "cannot open it (No such file or directory)"


def test_epub_read_through_the_bounds_keeps_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "fine.epub"
    path.write_bytes(epub_bytes("Bounded", "Reader", "id-1"))

    metadata = read_metadata(path, "epub")

    assert (metadata.title, metadata.author) == ("Bounded", "Reader")
