"""The host's settings, read from the environment (CONTRACT section 2)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shisho_jobs.config import data_dir, database_url

DEFAULT_PORT = 8000
HOST = "127.0.0.1"
DEFAULT_SESSION_SWEEP_SECONDS = 3600.0


def _positive_seconds(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"{name} must be a number of seconds above 0, not {text!r}")
    return seconds


@dataclass(frozen=True)
class HostSettings:
    """Where the host keeps its data and how it serves."""

    data_dir: Path
    """``SHISHO_DATA_DIR``: the database file (by default), sessions and sample libraries."""
    database_url: str
    """``SHISHO_DATABASE_URL``, else a SQLite file under the data dir."""
    port: int
    """``SHISHO_PORT``: the port on 127.0.0.1."""
    inprocess_worker: bool
    """``SHISHO_INPROCESS_WORKER``: ``False`` leaves jobs to ``shisho-jobs worker`` processes."""
    secure_cookies: bool = False
    """``SHISHO_SECURE_COOKIES=1``: the host is served over HTTPS (behind a TLS proxy), so its
    session and CSRF cookies carry ``Secure`` and browsers never send them over plain HTTP."""
    session_sweep_seconds: float = DEFAULT_SESSION_SWEEP_SECONDS
    """``SHISHO_SESSION_SWEEP_SECONDS``: how often expired login sessions are removed."""

    @classmethod
    def from_env(cls) -> HostSettings:
        """The settings of this process's environment."""
        return cls(
            data_dir=data_dir().resolve(),
            database_url=database_url(),
            port=int(os.environ.get("SHISHO_PORT") or DEFAULT_PORT),
            inprocess_worker=os.environ.get("SHISHO_INPROCESS_WORKER", "1") != "0",
            secure_cookies=os.environ.get("SHISHO_SECURE_COOKIES", "0") == "1",
            session_sweep_seconds=_positive_seconds(
                "SHISHO_SESSION_SWEEP_SECONDS", DEFAULT_SESSION_SWEEP_SECONDS
            ),
        )

    @property
    def libraries_dir(self) -> Path:
        """Where the demo's sample libraries live."""
        return self.data_dir / "libraries"

    @property
    def sessions_dir(self) -> Path:
        """Where the server-side login sessions are stored."""
        return self.data_dir / "sessions"
