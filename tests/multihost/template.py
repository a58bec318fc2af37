"""The template database every test (and the benchmark) copies: host tables, users, libraries."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from library_host.database import get_database
from library_host.demo import prepare_demo
from library_host.settings import HostSettings
from multihost.hosts import Libraries
from multihost.private_postgres import PrivateCluster

TEMPLATE = "multihost_template"
BOOKS = 40
"""EPUB files in the Books library (plus one damaged file): about 4 s of paced scan."""
COMICS = 6


def prepare_template(postgres: PrivateCluster, folder: Path) -> Libraries:
    """Migrate the template database; make the demo libraries, users and files in ``folder``."""
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{TEMPLATE}"')
    admin.dispose()
    url = postgres.url(TEMPLATE).render_as_string(hide_password=False)
    settings = HostSettings(data_dir=folder, database_url=url, port=0, inprocess_worker=False)
    prepare_demo(settings, books=BOOKS, comics=COMICS)
    # CREATE DATABASE ... TEMPLATE needs the template without sessions.
    get_database(url).dispose()
    return Libraries(folder=settings.libraries_dir, books_files=BOOKS)


def copy_template(postgres: PrivateCluster, name: str) -> str:
    """A new database ``name`` copied from the template; its URL."""
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    admin.dispose()
    return postgres.url(name).render_as_string(hide_password=False)
