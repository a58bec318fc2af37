"""Recognising book files and reading their title and author.

EPUB: title and creators from the OPF package document (found through
``META-INF/container.xml``), parsed with defusedxml so a hostile file cannot
expand entities or fetch external resources. CBZ and PDF: the title is the
file name (a CBZ must still open as a ZIP archive and a PDF start with its
header, or the file counts as unreadable).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

FORMATS_BY_EXTENSION: dict[str, str] = {".epub": "epub", ".cbz": "cbz", ".pdf": "pdf"}
"""File name extensions (lower case) the scanner catalogues, and their format names."""

MAX_METADATA_BYTES = 4 * 1024 * 1024
"""Largest container.xml or OPF document read (a ZIP member can claim any size)."""

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

    Raises:
        UnreadableBookFile: the file is damaged, unsafe or cannot be opened.
    """
    try:
        if file_format == "epub":
            return _read_epub(path)
        if file_format == "cbz":
            return _read_cbz(path)
        if file_format == "pdf":
            return _read_pdf(path)
    except UnreadableBookFile:
        raise
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError) as error:
        # RuntimeError: zipfile's answer to encrypted members.
        raise UnreadableBookFile(f"cannot open it ({error})") from error
    raise UnreadableBookFile(f"unknown format {file_format!r}")


def _read_epub(path: Path) -> BookMetadata:
    with zipfile.ZipFile(path) as archive:
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
        info = archive.getinfo(name)
    except KeyError:
        raise UnreadableBookFile(f"{name} is missing") from None
    if info.file_size > MAX_METADATA_BYTES:
        raise UnreadableBookFile(f"{name} is too large ({info.file_size} bytes)")
    data = archive.read(info)
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


def _read_cbz(path: Path) -> BookMetadata:
    with zipfile.ZipFile(path) as archive:
        if not archive.infolist():
            raise UnreadableBookFile("the archive is empty")
    return BookMetadata(title=title_from_file_name(path))


def _read_pdf(path: Path) -> BookMetadata:
    with path.open("rb") as file:
        if file.read(len(_PDF_MAGIC)) != _PDF_MAGIC:
            raise UnreadableBookFile("not a PDF (no %PDF- header)")
    return BookMetadata(title=title_from_file_name(path))
