"""Hostile book files, made the way an attacker would make them: zip bombs and lying archives.

Each is written piece by piece, so making a bomb never holds what it inflates to.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

CONTAINER = "META-INF/container.xml"
MIB = 1024 * 1024
BOMB_INFLATED_BYTES = 160 * MIB
"""What each bomb's member inflates to: well over the 100 MB a scan may grow by."""
DECLARED_BYTES = 200
"""What a lying member claims to inflate to."""

_CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_RECORD = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_LOCAL_SIZE_OFFSET = 22  # uncompressed size in a local file header
_CENTRAL_SIZE_OFFSET = 24  # uncompressed size in a central directory header
_CENTRAL_NAME_OFFSET = 46


def lying_epub(path: Path, compression: int, *, inflated: int = BOMB_INFLATED_BYTES) -> Path:
    """An EPUB whose container.xml inflates to ``inflated`` bytes but declares 200.

    Args:
        path: where to write it.
        compression: the member's ``zipfile`` compression (deflate, bzip2 or LZMA).
        inflated: what the member really inflates to.
    """
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        info = zipfile.ZipInfo(CONTAINER)
        info.compress_type = compression
        chunk = b" " * MIB
        with archive.open(info, "w") as member:
            for _ in range(inflated // MIB):
                member.write(chunk)
    _declare_size(path, CONTAINER, DECLARED_BYTES)
    return path


def many_entries_cbz(path: Path, entries: int) -> Path:
    """A CBZ of ``entries`` directory entries (no data) whose end record claims one.

    Its size is about 50 bytes per entry; ``zipfile`` builds an object of about
    330 bytes for each when it opens it.
    """
    with path.open("wb") as file:
        directory_size = 0
        for number in range(entries):
            name = f"{number:x}.jpg".encode()
            header = _CENTRAL_HEADER.pack(
                _CENTRAL_SIGNATURE, 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
            )
            file.write(header + name)
            directory_size += len(header) + len(name)
        file.write(_END_RECORD.pack(_END_SIGNATURE, 0, 0, 1, 1, directory_size, 0, 0))
    return path


def honest_many_entries_cbz(path: Path, entries: int) -> Path:
    """A well-formed CBZ of ``entries`` tiny pages."""
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(entries):
            archive.writestr(f"{number:05d}.jpg", b"")
    return path


def _central_headers(data: bytes) -> list[int]:
    """Offsets of the central directory headers of the archive ``data``."""
    end = data.rindex(_END_SIGNATURE)
    fields = _END_RECORD.unpack_from(data, end)
    position, stop = fields[6], fields[6] + fields[5]
    offsets = []
    while position < stop:
        header = _CENTRAL_HEADER.unpack_from(data, position)
        assert header[0] == _CENTRAL_SIGNATURE
        offsets.append(position)
        position += _CENTRAL_HEADER.size + header[10] + header[11] + header[12]
    return offsets


def _member_header(data: bytes, name: str) -> tuple[int, int]:
    """``(central header offset, local header offset)`` of member ``name``."""
    for offset in _central_headers(data):
        header = _CENTRAL_HEADER.unpack_from(data, offset)
        start = offset + _CENTRAL_NAME_OFFSET
        if data[start : start + header[10]] == name.encode():
            return offset, header[16]
    raise KeyError(name)


def _declare_size(path: Path, name: str, declared: int) -> None:
    """Make member ``name`` claim to inflate to ``declared`` bytes, in both of its headers."""
    data = bytearray(path.read_bytes())
    central, local = _member_header(bytes(data), name)
    struct.pack_into("<L", data, central + _CENTRAL_SIZE_OFFSET, declared)
    struct.pack_into("<L", data, local + _LOCAL_SIZE_OFFSET, declared)
    path.write_bytes(bytes(data))


def rename_member(path: Path, name: str, raw_name: bytes) -> None:
    """Give member ``name`` the raw name bytes ``raw_name`` (same length) in the directory."""
    data = bytearray(path.read_bytes())
    central, _ = _member_header(bytes(data), name)
    assert len(raw_name) == len(name.encode())
    start = central + _CENTRAL_NAME_OFFSET
    data[start : start + len(raw_name)] = raw_name
    path.write_bytes(bytes(data))


def corrupt_member_data(path: Path, name: str) -> None:
    """Overwrite the compressed data of member ``name`` with bytes no inflater accepts."""
    data = bytearray(path.read_bytes())
    central, local = _member_header(bytes(data), name)
    header = _CENTRAL_HEADER.unpack_from(data, central)
    compressed_size = header[8]
    name_length, extra_length = struct.unpack_from("<2H", data, local + 26)
    start = local + 30 + name_length + extra_length
    data[start : start + compressed_size] = b"\xff" * compressed_size
    path.write_bytes(bytes(data))
