"""Library 4, ``Big``: enough files that its first scan runs for seconds, long enough to cancel
the scan or kill its worker mid-way (the button and worker e2e modules both need one)."""

from __future__ import annotations

from library_host import catalog
from library_host.database import get_database
from library_host.sample_data import epub_bytes

from .conftest import Host

BIG_LIBRARY_ID = 4
BIG_LIBRARY_FILES = 20_000
SHELF_SIZE = 500  # files a folder: no folder of the library gets huge


def add_big_library(host: Host) -> None:
    """Write the Big library under the host's libraries folder and add it to its catalogue."""
    # The same valid EPUB under many names: cheap to write, each still read by the first scan.
    folder = host.libraries_dir / "big"
    content = epub_bytes("A Book Among Many", "Prolific Author", "e2e-big")
    for shelf in range(BIG_LIBRARY_FILES // SHELF_SIZE):
        shelf_dir = folder / f"shelf-{shelf:03d}"
        shelf_dir.mkdir(parents=True)
        for number in range(SHELF_SIZE):
            (shelf_dir / f"book-{number:03d}.epub").write_bytes(content)
    catalog.ensure_library(
        get_database(host.settings.database_url), BIG_LIBRARY_ID, "Big", str(folder)
    )
