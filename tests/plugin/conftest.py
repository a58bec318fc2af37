"""Fixtures of the plugin's API tests: the test host on each engine, through Litestar's client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from shisho_jobs import Database

sys.path.insert(0, str(Path(__file__).parent))

from plugin_test_host import ApiClient, make_app


@pytest.fixture
def api(database: Database) -> Iterator[ApiClient]:
    """The test host on a fresh database (SQLite and PostgreSQL), signed-in per call."""
    app, plugin = make_app(database, sqlite_poll_interval=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiClient(client, plugin)
