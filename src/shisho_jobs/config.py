"""Settings read from the environment (CONTRACT section 2)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "./var"
DATABASE_FILE_NAME = "shisho.db"


def data_dir() -> Path:
    """Where the database file and sample libraries live (``SHISHO_DATA_DIR``)."""
    return Path(os.environ.get("SHISHO_DATA_DIR") or DEFAULT_DATA_DIR)


def database_url() -> str:
    """The SQLAlchemy URL to use (``SHISHO_DATABASE_URL``), else a SQLite file in the data dir."""
    url = os.environ.get("SHISHO_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(data_dir() / DATABASE_FILE_NAME).resolve()}"
