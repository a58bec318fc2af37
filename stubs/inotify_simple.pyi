# Types for the part of inotify_simple (2.x; ships no annotations) that shisho_jobs uses.
from enum import IntEnum
from os import PathLike
from types import TracebackType
from typing import NamedTuple, Self

class Event(NamedTuple):
    wd: int
    mask: int
    cookie: int
    name: str

# A FileIO underneath whose read() returns events: only what is used here is declared.
class INotify:
    def __init__(
        self, inheritable: bool = ..., nonblocking: bool = ..., closefd: bool = ...
    ) -> None: ...
    def add_watch(self, path: str | bytes | PathLike[str], mask: int) -> int: ...
    def rm_watch(self, wd: int) -> None: ...
    def read(self, timeout: int | None = ..., read_delay: int | None = ...) -> list[Event]: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

class flags(IntEnum):
    ACCESS = 0x00000001
    MODIFY = 0x00000002
    ATTRIB = 0x00000004
    CLOSE_WRITE = 0x00000008
    CLOSE_NOWRITE = 0x00000010
    OPEN = 0x00000020
    MOVED_FROM = 0x00000040
    MOVED_TO = 0x00000080
    CREATE = 0x00000100
    DELETE = 0x00000200
    DELETE_SELF = 0x00000400
    MOVE_SELF = 0x00000800
    UNMOUNT = 0x00002000
    Q_OVERFLOW = 0x00004000
    IGNORED = 0x00008000
