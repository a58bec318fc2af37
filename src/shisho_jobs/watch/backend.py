"""The OS side of watching one library folder: watchfiles' ``RustNotify`` on its folders.

Each folder of the library that is not hidden or a system folder gets a non-recursive
watch (inotify watches folders, one watch each), so ``@eaDir`` and friends cost no
watches. A new folder is picked up by building a new watcher before the old one is
closed, and draining the old one, so no event falls between them. ``polling`` makes
notify stat the folders every ``poll_delay_ms`` instead (network filesystems deliver
no events).

watchfiles' ``ignore_permission_denied`` is left off: with it, notify also swallows the
watch limit's error and the library would go unwatched without a word; unreadable
sub-folders are left out of the list instead.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Final, Protocol

from watchfiles import Change
from watchfiles._rust_notify import RustNotify, WatchfilesRustInternalError

from shisho_jobs.watch.ignore import is_ignored_name

WAIT_STEP_MS: Final = 20  # ms notify waits for more events once one arrived
GROUP_MS: Final = 100  # ms at most that notify groups events before returning them
REBUILD_ATTEMPTS: Final = 3  # listings of the folders tried while sub-folders move
DRAIN_MS: Final = 1  # ms the old watcher gets to hand over its last events on a rebuild

_LIMIT_WORDS: Final = ("watch limit", "too many open files", "no space left on device")

RawChange = tuple[Change, str]
"""An event as watchfiles reports it: what happened, and the absolute path."""


class StopFlag(Protocol):
    """Anything with ``is_set()``, such as :class:`threading.Event`."""

    def is_set(self) -> bool:
        """Whether watching should stop."""
        ...


def is_watch_limit_error(error: BaseException) -> bool:
    """Whether ``error`` says the OS ran out of file watches (inotify's limits).

    notify reports ``max_user_watches`` as "OS file watch limit reached" (an
    ``OSError`` without errno); the kernel's own words are ENOSPC for watches and
    EMFILE for ``max_user_instances``.
    """
    if not isinstance(error, OSError):
        return False
    if error.errno in (errno.ENOSPC, errno.EMFILE):
        return True
    text = str(error).lower()
    return any(words in text for words in _LIMIT_WORDS)


def _as_os_error(error: WatchfilesRustInternalError) -> OSError:
    """The OS error behind watchfiles' internal error ("... (os error 24)"), when it names one."""
    text = str(error)
    return OSError(errno.EMFILE, text) if "os error 24" in text else OSError(text)


def watched_folders(root: Path) -> list[Path]:
    """``root`` and every folder below it that is not ignored (symlinks are not followed).

    Raises:
        FileNotFoundError: ``root`` does not exist.
        NotADirectoryError: ``root`` is not a folder.
        PermissionError: ``root`` cannot be listed.
    """
    with os.scandir(root):
        pass  # the library's own folder must be readable; sub-folders are best effort
    folders: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue  # an unreadable sub-folder is not watched; the scan warns about it
        folders.append(folder)
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and not is_ignored_name(entry.name):
                    stack.append(Path(entry.path))
    return folders


class FolderWatch:
    """Events (or polled changes) of one library folder and its folders.

    Args:
        root: the library's folder.
        polling: stat the folders every ``poll_delay_ms`` instead of OS events.
        poll_delay_ms: milliseconds between two polls.
    """

    def __init__(self, root: Path, *, polling: bool, poll_delay_ms: int) -> None:
        self.root = root
        self.polling = polling
        self.poll_delay_ms = poll_delay_ms
        self.folders: frozenset[Path] = frozenset()
        self._notify: RustNotify | None = None

    def open(self) -> None:
        """Start watching.

        Raises:
            OSError: the folder is missing or unreadable, or the OS watch limit was
                reached (see :func:`is_watch_limit_error`).
        """
        self._notify, self.folders = self._new_notify()

    def wait(self, timeout_ms: int, stop: StopFlag) -> list[RawChange] | None:
        """The next group of changes; ``[]`` after ``timeout_ms`` without any.

        Returns:
            The changes, or ``None`` once ``stop`` is set.

        Raises:
            OSError: watching failed (for example the limit, on a rebuild).
        """
        if self._notify is None:
            raise RuntimeError("FolderWatch.open() was not called")
        answer = self._notify.watch(GROUP_MS, WAIT_STEP_MS, timeout_ms, stop)
        if answer == "stop":
            return None
        if isinstance(answer, str):  # "timeout" (or "signal", which threads never get)
            return []
        return [(Change(kind), path) for kind, path in answer]

    def needs_rebuild(self, changes: list[RawChange]) -> bool:
        """Whether ``changes`` added a folder to watch, or removed a watched one."""
        for change, path in changes:
            folder = Path(path)
            if change == Change.deleted and folder in self.folders:
                return True
            if (
                change == Change.added
                and folder not in self.folders
                and not is_ignored_name(folder.name)
                and folder.is_dir()
                and not folder.is_symlink()
            ):
                return True
        return False

    def rebuild(self) -> list[RawChange]:
        """Watch the folders as they are now; returns the old watcher's last events.

        Raises:
            OSError: as :meth:`open`; the old watcher then keeps running.
        """
        old = self._notify
        self._notify, self.folders = self._new_notify()
        if old is None:
            return []
        try:
            answer = old.watch(DRAIN_MS, DRAIN_MS, DRAIN_MS, None)
        finally:
            old.close()
        if isinstance(answer, str):
            return []
        return [(Change(kind), path) for kind, path in answer]

    def close(self) -> None:
        """Stop watching (idempotent)."""
        if self._notify is not None:
            self._notify.close()
            self._notify = None

    def _new_notify(self) -> tuple[RustNotify, frozenset[Path]]:
        for _attempt in range(REBUILD_ATTEMPTS - 1):
            try:
                return self._try_new_notify()
            except (FileNotFoundError, NotADirectoryError):
                # A sub-folder went away between listing and watching (a move in
                # progress); list again. A missing library folder fails below.
                if not self.root.is_dir():
                    raise
        return self._try_new_notify()

    def _try_new_notify(self) -> tuple[RustNotify, frozenset[Path]]:
        folders = watched_folders(self.root)
        try:
            notify = RustNotify(
                [str(folder) for folder in folders],
                False,  # debug
                self.polling,
                self.poll_delay_ms,
                False,  # recursive: each folder has its own watch (ignored ones none)
                # Not ignore_permission_denied: notify then also drops the watch limit's
                # error, and the library would go unwatched in silence. Unreadable folders
                # are left out of the list instead.
                False,
            )
        except WatchfilesRustInternalError as error:
            # watchfiles reports a failed inotify_init (no instance left:
            # max_user_instances) as its internal error, not as an OSError.
            raise _as_os_error(error) from error
        return notify, frozenset(folders)
