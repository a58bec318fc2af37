"""One shared :class:`shisho_jobs.Database` per database URL in this process.

The web app, the plugin's in-process worker and the hook implementations (also
loaded by separate ``shisho-jobs worker`` processes) use the same engine pool.
"""

from __future__ import annotations

import threading

from shisho_jobs import Database
from shisho_jobs.config import database_url

_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str | None = None) -> Database:
    """The process's database for ``url`` (default: ``shisho_jobs.config.database_url()``)."""
    url = url or database_url()
    with _lock:
        database = _databases.get(url)
        if database is None:
            database = _databases[url] = Database(url)
        return database
