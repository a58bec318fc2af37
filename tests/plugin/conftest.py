"""Fixtures of the plugin's API tests: the test host on each engine, through Litestar's client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from shisho_jobs import Database

sys.path.insert(0, str(Path(__file__).parent))

from plugin_test_host import CSRF_COOKIE, CSRF_HEADER, USER_HEADER, make_app

from shisho_resync_plugin import ResyncPlugin


class ApiClient:
    """Litestar's test client with sign-in and the CSRF dance done for each call."""

    def __init__(self, client: TestClient[Any], plugin: ResyncPlugin) -> None:
        self.client = client
        self.plugin = plugin

    def _csrf(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            self.client.get("/ping")
        return str(self.client.cookies[CSRF_COOKIE])

    def request(self, method: str, url: str, user: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers[USER_HEADER] = user
        if method != "GET":
            headers.setdefault(CSRF_HEADER, self._csrf())
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, user: str | None = "writer", **kwargs: Any) -> Any:
        return self.request("GET", url, user, **kwargs)

    def post(self, url: str, user: str | None = "writer", **kwargs: Any) -> Any:
        return self.request("POST", url, user, **kwargs)


@pytest.fixture
def api(database: Database) -> Iterator[ApiClient]:
    """The test host on a fresh database (SQLite and PostgreSQL), signed-in per call."""
    app, plugin = make_app(database, sqlite_poll_interval=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiClient(client, plugin)
