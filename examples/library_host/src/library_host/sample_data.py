"""Generated sample books: valid EPUB 3 and CBZ files with varied titles and authors.

Deterministic for a given seed, so the demo and the tests see the same library.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Golden",
    "Broken",
    "Winter",
    "Distant",
    "Burning",
    "Forgotten",
    "Glass",
    "Hollow",
    "Iron",
    "Quiet",
    "Wandering",
    "Northern",
    "Paper",
    "Salt",
)
_NOUNS = (
    "Garden",
    "River",
    "Archive",
    "Lighthouse",
    "Orchard",
    "Harbor",
    "Engine",
    "Library",
    "Comet",
    "Meridian",
    "Atlas",
    "Tide",
    "Cathedral",
    "Forest",
    "Signal",
    "Kingdom",
    "Clockwork",
    "Map",
)
_FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elif",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Keiko",
    "Luca",
    "Maren",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Soren",
    "Tomas",
)
_LAST_NAMES = (
    "Almeida",
    "Becker",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gallo",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
)
_SERIES = ("Starfall", "Night Market", "Copper Fox", "Deep Blue", "Moth & Lantern", "Skyline")


@dataclass(frozen=True)
class SampleBook:
    """A generated book: where it goes and what its metadata says."""

    relative_path: str
    title: str
    author: str | None


def epub_bytes(title: str, author: str, identifier: str) -> bytes:
    """A small, valid EPUB 3 (mimetype stored first, container, OPF, nav and one chapter)."""
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:{escape(identifier)}</dc:identifier>
    <dc:title>{escape(title)}</dc:title>
    <dc:creator>{escape(author)}</dc:creator>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="c1" href="chapter1.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine><itemref idref="c1"/></spine>
</package>
"""
    container = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
    page = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>{title}</title></head><body>{body}</body></html>
"""
    nav = page.format(
        title=escape(title),
        body='<nav epub:type="toc"><ol><li><a href="chapter1.xhtml">Chapter 1</a></li></ol></nav>',
    )
    chapter = page.format(
        title=escape(title), body=f"<h1>{escape(title)}</h1><p>By {escape(author)}.</p>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        for name, text in (
            ("META-INF/container.xml", container),
            ("OEBPS/content.opf", opf),
            ("OEBPS/nav.xhtml", nav),
            ("OEBPS/chapter1.xhtml", chapter),
        ):
            archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def cbz_bytes(pages: int, seed: int) -> bytes:
    """A valid CBZ: a ZIP of ``pages`` small PNG pages."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(1, pages + 1):
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            archive.writestr(f"page-{number:03d}.png", _png(8, 12, colour))
    return buffer.getvalue()


def sample_books(count: int, seed: int = 1) -> Iterator[SampleBook]:
    """``count`` distinct EPUB books, filed under ``Author Name/Title.epub``."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        title = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {number}"
        author = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        yield SampleBook(f"{author}/{title}.epub", title, author)


def write_books(folder: Path, count: int, seed: int = 1) -> list[SampleBook]:
    """Write ``count`` EPUB files under ``folder``; returns what was written."""
    written = []
    for number, book in enumerate(sample_books(count, seed), start=1):
        path = folder / book.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        assert book.author is not None
        path.write_bytes(epub_bytes(book.title, book.author, f"{seed:08d}-{number:012d}"))
        written.append(book)
    return written


def write_comics(folder: Path, count: int, seed: int = 2) -> list[SampleBook]:
    """Write ``count`` CBZ files under ``folder/<series>/``; returns what was written."""
    written = []
    for number in range(1, count + 1):
        series = _SERIES[(number - 1) % len(_SERIES)]
        volume = (number - 1) // len(_SERIES) + 1
        relative = f"{series}/{series.replace(' ', '_')}_Vol_{volume:02d}.cbz"
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(cbz_bytes(3, seed * 100_000 + number))
        written.append(SampleBook(relative, f"{series} Vol {volume:02d}", None))
    return written
