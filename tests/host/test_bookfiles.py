"""Reading titles and authors of book files, and refusing damaged or hostile ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from library_host.bookfiles import (
    UnreadableBookFile,
    book_format,
    read_metadata,
    title_from_file_name,
)
from library_host.sample_data import cbz_bytes, epub_bytes

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>
</rootfiles></container>"""


def _epub(tmp_path: Path, opf: str, *, container: str = CONTAINER) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("content.opf", opf)
    path = tmp_path / "book.epub"
    path.write_bytes(buffer.getvalue())
    return path


def _opf(metadata: str) -> str:
    return (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}</metadata></package>'
    )


def test_epub_title_and_author_come_from_the_opf(tmp_path: Path) -> None:
    path = tmp_path / "x.epub"
    path.write_bytes(epub_bytes("Der Zauberberg & mehr", "Thomas Mann", "id-1"))

    metadata = read_metadata(path, "epub")

    assert metadata.title == "Der Zauberberg & mehr"
    assert metadata.author == "Thomas Mann"


def test_epub_with_several_creators_lists_them_all(tmp_path: Path) -> None:
    opf = _opf(
        "<dc:title>Good Omens</dc:title><dc:creator>Terry Pratchett</dc:creator>"
        "<dc:creator>Neil Gaiman</dc:creator>"
    )

    metadata = read_metadata(_epub(tmp_path, opf), "epub")

    assert metadata.author == "Terry Pratchett, Neil Gaiman"


def test_epub_without_title_is_named_after_its_file(tmp_path: Path) -> None:
    metadata = read_metadata(_epub(tmp_path, _opf("<dc:creator>Anon</dc:creator>")), "epub")

    assert metadata.title == "book"
    assert metadata.author == "Anon"


def test_epub_with_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<package xmlns="http://www.idpf.org/2007/opf"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol2;</dc:title>'
        "</metadata></package>"
    )

    with pytest.raises(UnreadableBookFile, match="unsafe XML"):
        read_metadata(_epub(tmp_path, bomb), "epub")


def test_epub_with_external_entity_is_refused(tmp_path: Path) -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        '<package xmlns="http://www.idpf.org/2007/opf"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&secret;</dc:title>'
        "</metadata></package>"
    )

    with pytest.raises(UnreadableBookFile, match="unsafe XML"):
        read_metadata(_epub(tmp_path, xxe), "epub")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a zip at all", "cannot open it"),
        (None, "META-INF/container.xml is missing"),
    ],
)
def test_damaged_epub_is_unreadable(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "bad.epub"
    if content is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("mimetype", "application/epub+zip")
        content = buffer.getvalue()
    path.write_bytes(content)

    with pytest.raises(UnreadableBookFile, match=reason):
        read_metadata(path, "epub")


def test_malformed_opf_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableBookFile, match="not well-formed"):
        read_metadata(_epub(tmp_path, "<package><metadata>"), "epub")


def test_cbz_title_comes_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "Saga_Vol_01.cbz"
    path.write_bytes(cbz_bytes(2, seed=1))

    assert read_metadata(path, "cbz").title == "Saga Vol 01"


def test_cbz_that_is_not_an_archive_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.cbz"
    path.write_bytes(b"\x00" * 64)

    with pytest.raises(UnreadableBookFile):
        read_metadata(path, "cbz")


def test_pdf_needs_its_header(tmp_path: Path) -> None:
    good, bad = tmp_path / "A Report.pdf", tmp_path / "fake.pdf"
    good.write_bytes(b"%PDF-1.7\n%%EOF\n")
    bad.write_bytes(b"<html>")

    assert read_metadata(good, "pdf").title == "A Report"
    with pytest.raises(UnreadableBookFile, match="no %PDF- header"):
        read_metadata(bad, "pdf")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.EPUB", "epub"), ("b.cbz", "cbz"), ("c.Pdf", "pdf"), ("d.mobi", None), ("epub", None)],
)
def test_book_format_by_extension(name: str, expected: str | None) -> None:
    assert book_format(name) == expected


def test_title_from_file_name_collapses_separators() -> None:
    assert title_from_file_name(Path("Moth_&__Lantern  Vol_02.cbz")) == "Moth & Lantern Vol 02"
