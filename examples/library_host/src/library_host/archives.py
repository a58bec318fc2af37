"""Opening untrusted ZIP archives (EPUB, CBZ) with a bound on everything they make us allocate.

``zipfile`` trusts the archive it opens: it loads the whole central directory
(one ``ZipInfo`` per entry, however many the file holds), inflates a deflated
member in one piece of up to 1 GiB before it compares it with the size the
archive declared, and inflates bzip2 and LZMA members without any limit. Here:

- every read ``zipfile`` makes from the file is at most :data:`MAX_SINGLE_READ`
  bytes, which bounds the central directory it loads, and an archive of more
  than :data:`MAX_ARCHIVE_ENTRIES` entries is refused;
- only stored and deflated members are read, and each read stops once it has
  inflated the caller's limit (the bytes produced count, not the declared size).
"""

from __future__ import annotations

import os
import zipfile
from typing import BinaryIO

MAX_ARCHIVE_ENTRIES = 20_000
"""Entries an archive may hold; a comic of 20,000 pages or an EPUB of 20,000 files is not a book."""

MAX_SINGLE_READ = 4 * 1024 * 1024
"""Largest single read of an archive file (bytes): in practice, the size of its central directory.

4 MiB of directory hold at most about 90,000 minimal entries, about 30 MB of ``ZipInfo``
objects, before :data:`MAX_ARCHIVE_ENTRIES` is checked."""

READABLE_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
"""Member compressions read: the two EPUB allows (OCF 3.3 section 4.2), whose inflation can be
bounded (``zlib`` takes a maximum output length; ``bz2`` and ``lzma`` in ``zipfile`` do not)."""

_COMPRESSION_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}


class ArchiveRefused(Exception):
    """An archive or one of its members is refused before it is read; the message says why."""


class _BoundedReads:
    """A read-only file whose single reads are at most ``limit`` bytes, for ``zipfile``.

    ``zipfile`` reads the central directory with one ``read(size)``, the size
    taken from the archive itself; this is where a directory too large to load
    is stopped, whichever end record ``zipfile`` found.
    """

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self._file = file
        self._limit = limit
        self.name = getattr(file, "name", None)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            position = self._file.tell()
            end = self._file.seek(0, os.SEEK_END)
            self._file.seek(position)
            size = end - position
        if size > self._limit:
            raise ArchiveRefused(
                f"the archive's directory is too large (over {self._limit} bytes to read at once)"
            )
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return True


def open_archive(file: BinaryIO) -> zipfile.ZipFile:
    """A ``ZipFile`` reading ``file``, refused when its directory exceeds the limits.

    Args:
        file: the archive, open for binary reading; the caller closes it (``zipfile``
            never closes a file it was given).

    Raises:
        ArchiveRefused: the central directory is too large, or lists too many entries.
        zipfile.BadZipFile: the file is not a ZIP archive.
    """
    archive = zipfile.ZipFile(_BoundedReads(file, MAX_SINGLE_READ))
    entries = len(archive.infolist())
    if entries > MAX_ARCHIVE_ENTRIES:
        archive.close()
        raise ArchiveRefused(
            f"the archive holds {entries} entries, more than the {MAX_ARCHIVE_ENTRIES} read"
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, *, limit: int) -> bytes:
    """The content of member ``name``, inflating at most ``limit`` bytes.

    Args:
        archive: an archive from :func:`open_archive`.
        name: the member's name.
        limit: the most bytes the member may inflate to.

    Raises:
        KeyError: there is no such member.
        ArchiveRefused: the member is compressed with a method that is not read, or
            inflates to more than ``limit`` bytes (whatever size it declares).
        zipfile.BadZipFile: the member's data does not match its declared size or CRC.
    """
    info = archive.getinfo(name)
    if info.compress_type not in READABLE_COMPRESSION:
        method = _COMPRESSION_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise ArchiveRefused(
            f"{name} uses {method} compression; only stored and deflated members are read"
        )
    if info.file_size > limit:
        raise ArchiveRefused(f"{name} is too large ({info.file_size} bytes, over {limit})")
    with archive.open(info) as member:
        # read(n) inflates at most n bytes; read() would inflate up to 1 GiB in one call.
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ArchiveRefused(f"{name} is too large (over {limit} bytes)")
    return data
