"""Recognising book files and reading their title and author.

EPUB: title and creators from the OPF package document (found through
``META-INF/container.xml``), parsed with defusedxml so a hostile file cannot
expand entities or fetch external resources. CBZ and PDF: the title is the
file name (a CBZ must still open as a ZIP archive and a PDF start with its
header, or the file counts as unreadable).

Every file is untrusted: archives are opened through :mod:`library_host.archives`
(bounded directory, bounded inflation), only regular files are opened (never a
FIFO that would block the scan, never a device), and whatever goes wrong while
reading one file is an :class:`UnreadableBookFile` naming the reason.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from library_host.archives import ArchiveRefused, open_archive, read_member

FORMATS_BY_EXTENSION: dict[str, str] = {".epub": "epub", ".cbz": "cbz", ".pdf": "pdf"}
"""File name extensions (lower case) the scanner catalogues, and their format names."""

MAX_METADATA_BYTES = 2 * 1024 * 1024
"""Largest container.xml or OPF document read (bytes inflated, whatever size the member
declares); parsed, 2 MiB of the smallest elements take about 45 MB."""

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
"""Never through a symlink (the scanner resolves and checks links itself), and never
blocking on a FIFO put in place of a book since the folder was listed."""

_READ_ERRORS = (
    OSError,
    EOFError,  # zipfile: member data cut short
    ValueError,  # includes UnicodeDecodeError: a member name flagged UTF-8 that is not
    RuntimeError,  # zipfile: encrypted members; NotImplementedError: unsupported features
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,  # damaged deflate data
    struct.error,
)
"""What reading a hostile or damaged file can raise; each makes the file unreadable."""

_CONTAINER_PATH = "META-INF/container.xml"
_CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF_NS = "{http://www.idpf.org/2007/opf}"
_DC_NS = "{http://purl.org/dc/elements/1.1/}"
_PDF_MAGIC = b"%PDF-"
_SEPARATORS = re.compile(r"[_\s]+")


class UnreadableBookFile(Exception):
    """A book file could not be read; the message says why."""


@dataclass(frozen=True)
class BookMetadata:
    """What the catalogue shows of a book file."""

    title: str
    author: str | None = None


def book_format(name: str) -> str | None:
    """The format of a file called ``name`` (``"epub"``, ``"cbz"``, ``"pdf"``), or ``None``."""
    # str.rpartition, not pathlib: this runs once per file of every scan.
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return None
    return FORMATS_BY_EXTENSION.get(f".{extension.lower()}")


def title_from_file_name(path: Path) -> str:
    """A readable title made of a file's name: ``Saga_Vol_01.cbz`` -> ``Saga Vol 01``."""
    return _SEPARATORS.sub(" ", path.stem).strip() or path.name


def read_metadata(path: Path, file_format: str) -> BookMetadata:
    """Title and author of the book file at ``path``.

    Args:
        path: the file; a symlink is refused (resolve it first).
        file_format: its format, from :func:`book_format`.

    Raises:
        UnreadableBookFile: the file is damaged, unsafe, not a regular file or cannot be opened.
    """
    readers = {"epub": _read_epub, "cbz": _read_cbz, "pdf": _read_pdf}
    reader = readers.get(file_format)
    if reader is None:
        raise UnreadableBookFile(f"unknown format {file_format!r}")
    try:
        with _open_regular_file(path) as file:
            return reader(path, file)
    except UnreadableBookFile:
        raise
    except ArchiveRefused as error:
        raise UnreadableBookFile(str(error)) from error
    except OSError as error:
        # strerror, not str(error): that one carries the server's absolute path.
        raise UnreadableBookFile(f"cannot open it ({error.strerror or error})") from error
    except _READ_ERRORS as error:
        raise UnreadableBookFile(f"cannot open it ({error})") from error


def _open_regular_file(path: Path) -> BinaryIO:
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableBookFile(f"it is not a regular file ({file_kind(mode)})")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words: ``"a FIFO"``, ``"a socket"``..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "of an unknown kind")


def _read_epub(path: Path, file: BinaryIO) -> BookMetadata:
    with open_archive(file) as archive:
        container = _parse_member(archive, _CONTAINER_PATH)
        rootfile = container.find(f".//{_CONTAINER_NS}rootfile")
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            raise UnreadableBookFile(f"{_CONTAINER_PATH} names no package document")
        package = _parse_member(archive, opf_path)
    metadata = package.find(f"{_OPF_NS}metadata")
    if metadata is None:
        raise UnreadableBookFile(f"{opf_path} has no <metadata>")
    title = _first_text(metadata, f"{_DC_NS}title") or title_from_file_name(path)
    creators = [text for element in metadata.iter(f"{_DC_NS}creator") if (text := _text(element))]
    return BookMetadata(title=title, author=", ".join(creators) or None)


def _parse_member(archive: zipfile.ZipFile, name: str) -> Element:
    try:
        data = read_member(archive, name, limit=MAX_METADATA_BYTES)
    except KeyError:
        raise UnreadableBookFile(f"{name} is missing") from None
    try:
        root: Element = SafeElementTree.fromstring(data)
    except DefusedXmlException as error:
        raise UnreadableBookFile(f"{name} is unsafe XML ({type(error).__name__})") from None
    except ParseError as error:
        raise UnreadableBookFile(f"{name} is not well-formed XML ({error})") from None
    return root


def _text(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _first_text(parent: Element, tag: str) -> str:
    for element in parent.iter(tag):
        if text := _text(element):
            return text
    return ""


def _read_cbz(path: Path, file: BinaryIO) -> BookMetadata:
    with open_archive(file) as archive:
        if not archive.infolist():
            raise UnreadableBookFile("the archive is empty")
    return BookMetadata(title=title_from_file_name(path))


def _read_pdf(path: Path, file: BinaryIO) -> BookMetadata:
    if file.read(len(_PDF_MAGIC)) != _PDF_MAGIC:
        raise UnreadableBookFile("not a PDF (no %PDF- header)")
    return BookMetadata(title=title_from_file_name(path))
