"""Settings read from the environment (CONTRACT section 2)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "./var"
DATABASE_FILE_NAME = "shisho.db"
DEFAULT_STALL_SECONDS = 600.0  # seconds without progress before a running job is stalled


def data_dir() -> Path:
    """Where the database file and sample libraries live (``SHISHO_DATA_DIR``)."""
    return Path(os.environ.get("SHISHO_DATA_DIR") or DEFAULT_DATA_DIR)


def database_url() -> str:
    """The SQLAlchemy URL to use (``SHISHO_DATABASE_URL``), else a SQLite file in the data dir."""
    url = os.environ.get("SHISHO_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(data_dir() / DATABASE_FILE_NAME).resolve()}"


def stall_seconds() -> float:
    """Seconds without progress before an in-progress job shows as stalled
    (``SHISHO_STALL_SECONDS``; a job type's ``stall_seconds`` overrides it).

    Raises:
        ValueError: the variable is set to something that is not a positive number.
    """
    text = os.environ.get("SHISHO_STALL_SECONDS", "").strip()
    if not text:
        return DEFAULT_STALL_SECONDS
    try:
        value = float(text)
    except ValueError:
        message = f"SHISHO_STALL_SECONDS must be a number of seconds, not {text!r}"
        raise ValueError(message) from None
    if value <= 0:
        raise ValueError(f"SHISHO_STALL_SECONDS must be positive, not {text!r}")
    return value
