"""Settings read from the environment (CONTRACT section 2)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from shisho_jobs.errors import InvalidSetting

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


def env_number(env: Mapping[str, str], name: str, unit: str) -> float | None:
    """The number ``env[name]`` holds (0 or more, finite); ``None`` when unset or empty.

    Raises:
        InvalidSetting: the value is not such a number (naming ``name`` and ``unit``).
    """
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidSetting(name, f"must be a number of {unit}, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidSetting(name, f"must be 0 or more {unit}, got {raw!r}")
    return value
