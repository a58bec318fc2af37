"""``python -m library_host.demo`` (``make demo``): migrate, make the sample data, and serve.

Honours ``SHISHO_DATA_DIR``, ``SHISHO_DATABASE_URL``, ``SHISHO_PORT`` and
``SHISHO_INPROCESS_WORKER``. Re-running keeps the data: libraries, users and
sample files are only created when they are missing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import uvicorn

from library_host import catalog, migrate, sample_data
from library_host.app import create_app
from library_host.database import get_database
from library_host.settings import HOST, HostSettings
from library_host.users import ensure_role, ensure_user
from shisho_jobs.hooktypes import JOBS_READ, JOBS_WRITE

BOOKS_LIBRARY_ID = 1
COMICS_LIBRARY_ID = 2
BROKEN_LIBRARY_ID = 3
DEFAULT_BOOKS = 300
DEFAULT_COMICS = 60
DAMAGED_FILE_NAME = "Damaged download.epub"
"""A file in Books that is no EPUB, so a scan shows how unreadable files are logged."""


@dataclass(frozen=True)
class DemoUser:
    """A demo login."""

    username: str
    password: str
    role: str
    permissions: frozenset[str]
    library_ids: tuple[int, ...] | None
    """``None``: every library."""


DEMO_USERS = (
    DemoUser("admin", "admin", "admin", frozenset({JOBS_READ, JOBS_WRITE}), None),
    DemoUser("viewer", "viewer", "viewer", frozenset({JOBS_READ}), None),
    DemoUser(
        "librarian",
        "librarian",
        "librarian",
        frozenset({JOBS_READ, JOBS_WRITE}),
        (BOOKS_LIBRARY_ID,),
    ),
)


def prepare_demo(
    settings: HostSettings, *, books: int = DEFAULT_BOOKS, comics: int = DEFAULT_COMICS
) -> None:
    """Migrate and create what is missing: the three libraries, their files and the users.

    Args:
        settings: where the data lives.
        books: EPUB files to generate in a new Books library.
        comics: CBZ files to generate in a new Comics library.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    database = get_database(settings.database_url)
    root = settings.libraries_dir
    books_dir, comics_dir, broken_dir = root / "books", root / "comics", root / "broken"
    if not books_dir.exists():
        sample_data.write_books(books_dir, books)
        (books_dir / DAMAGED_FILE_NAME).write_bytes(b"this download was cut short")
    if not comics_dir.exists():
        sample_data.write_comics(comics_dir, comics)
    catalog.ensure_library(database, BOOKS_LIBRARY_ID, "Books", str(books_dir))
    catalog.ensure_library(database, COMICS_LIBRARY_ID, "Comics", str(comics_dir))
    # Its folder is never created: its scans fail, to show how a failure looks.
    catalog.ensure_library(database, BROKEN_LIBRARY_ID, "Broken", str(broken_dir))
    for user in DEMO_USERS:
        role_id = ensure_role(database, user.role, user.permissions)
        ensure_user(
            database, user.username, user.password, role_id=role_id, library_ids=user.library_ids
        )


def _banner(settings: HostSettings) -> str:
    logins = "\n".join(
        f"  {user.username:<10} / {user.password:<10} {user.role}" for user in DEMO_USERS
    )
    worker = (
        "a worker runs in this process"
        if settings.inprocess_worker
        else "no worker here: start `shisho-jobs worker` with the same SHISHO_DATA_DIR"
    )
    return (
        f"\nShisho demo: http://{HOST}:{settings.port}/  ({worker})\n"
        f"Data: {settings.data_dir}\nLogins:\n{logins}\nPress Ctrl-C to stop.\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the demo and serve it until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m library_host.demo", description=__doc__)
    parser.add_argument(
        "--prepare-only", action="store_true", help="migrate and make the data, then exit"
    )
    args = parser.parse_args(argv)
    settings = HostSettings.from_env()
    prepare_demo(settings)
    if args.prepare_only:
        return 0
    print(_banner(settings), flush=True)
    uvicorn.run(create_app(settings), host=HOST, port=settings.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
