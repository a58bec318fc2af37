"""Migrate the host's tables, then the jobs tables that point at them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shisho_jobs import migrate as jobs_migrate

VERSION_TABLE = "library_host_alembic_version"
"""The host's own Alembic version table (shisho_jobs keeps its revisions apart)."""

MIGRATIONS_PATH = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | sa.URL) -> Config:
    """An Alembic configuration for the host's revisions at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    config.attributes["url"] = url
    return config


def upgrade(url: str | sa.URL) -> None:
    """Bring the whole database up to date: the host's tables first, then the jobs tables.

    The jobs migrations add ``jobs.library_id`` referencing ``libraries(id)``,
    so the host's ``libraries`` table has to exist before they run.
    """
    command.upgrade(alembic_config(url), "heads")
    jobs_migrate.upgrade(url)
