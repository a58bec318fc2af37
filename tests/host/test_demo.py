"""The demo's data: migration, sample libraries and users, kept when run again."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from library_host import catalog, models
from library_host.bookfiles import read_metadata
from library_host.database import get_database
from library_host.demo import DAMAGED_FILE_NAME, prepare_demo
from library_host.sample_data import sample_books
from library_host.settings import HostSettings
from library_host.users import authenticate
from shisho_jobs import Database


def _settings(tmp_path: Path) -> HostSettings:
    data_dir = tmp_path / "data"
    return HostSettings(data_dir, f"sqlite:///{data_dir / 'shisho.db'}", 8000, True)


def _host_tables_only(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The database also holds the jobs tables and both version tables.
    return not (type_ == "table" and name not in models.metadata.tables)


def test_migration_matches_the_host_tables(host_database: Database) -> None:
    with host_database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _host_tables_only, "compare_type": False}
        )
        assert compare_metadata(context, models.metadata) == []


def test_demo_makes_three_libraries_users_and_valid_files(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    prepare_demo(settings, books=12, comics=4)

    database = get_database(settings.database_url)
    libraries = {library.id: library for library in catalog.list_libraries(database)}
    assert [(lid, lib.name) for lid, lib in libraries.items()] == [
        (1, "Books"),
        (2, "Comics"),
        (3, "Broken"),
    ]
    books_dir = Path(libraries[1].path or "")
    epubs = sorted(books_dir.rglob("*.epub"))
    assert len(epubs) == 13 and (books_dir / DAMAGED_FILE_NAME).exists()
    expected = {book.relative_path: book for book in sample_books(12)}
    for relative, book in expected.items():
        metadata = read_metadata(books_dir / relative, "epub")
        assert (metadata.title, metadata.author) == (book.title, book.author)
    assert len(list(Path(libraries[2].path or "").rglob("*.cbz"))) == 4
    assert not Path(libraries[3].path or "").exists()
    for username in ("admin", "viewer", "librarian"):
        assert authenticate(database, username, username) is not None
    librarian = authenticate(database, "librarian", "librarian")
    assert librarian is not None and librarian.library_ids == frozenset({1})
    database.dispose()


def test_running_the_demo_again_keeps_the_data(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    prepare_demo(settings, books=3, comics=2)
    database = get_database(settings.database_url)
    with database.write() as session:
        session.execute(
            sa.update(models.libraries).where(models.libraries.c.id == 2).values(name="My Comics")
        )
    added = settings.libraries_dir / "books" / "mine.epub"
    added.write_bytes(b"kept")

    prepare_demo(settings, books=3, comics=2)

    assert [lib.name for lib in catalog.list_libraries(database)] == [
        "Books",
        "My Comics",
        "Broken",
    ]
    assert added.read_bytes() == b"kept"
    with database.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.users)) == 3
    database.dispose()


@pytest.mark.parametrize("wrong", ["", "Admin", "admin "])
def test_wrong_passwords_do_not_authenticate(tmp_path: Path, wrong: str) -> None:
    settings = _settings(tmp_path)
    prepare_demo(settings, books=1, comics=1)
    database = get_database(settings.database_url)

    assert authenticate(database, "admin", wrong) is None
    database.dispose()
