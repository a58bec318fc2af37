"""The order of answers on the jobs routes: sign-in (401), then permission (403), then bad input
(400), whatever else is wrong with the request; and the host's own ``before_request`` hook still
runs on them, after the plugin's checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, Response
from litestar.testing import TestClient
from plugin_test_host import ApiClient, TestHostHooks, ping, sign_in_middleware

from shisho_jobs import Database, get_plugin_manager
from shisho_resync_plugin import ResyncConfig, ResyncPlugin

ANONYMOUS = None
BAD_REQUESTS = [
    ("GET", "/api/jobs?limit=0&unknown=1", {}),
    ("GET", "/api/jobs/abc", {}),
    ("GET", "/api/jobs/1/logs?level=loud", {}),
    ("GET", "/api/jobs/events?library_id=x", {"headers": {"last-event-id": "x"}}),
    ("POST", "/api/jobs", {"content": b"{not json", "headers": {"content-type": "text/plain"}}),
]


@pytest.mark.parametrize(("method", "url", "extra"), BAD_REQUESTS)
@pytest.mark.parametrize("refused", [(ANONYMOUS, 401), ("nobody", 403)])
def test_sign_in_and_permission_are_answered_before_bad_input(
    api: ApiClient, method: str, url: str, extra: dict[str, Any], refused: tuple[str | None, int]
) -> None:
    user, expected = refused
    response = api.request(method, url, user, **extra)
    assert response.status_code == expected, response.text
    assert response.json()["status_code"] == expected
    assert api.plugin.runtime.service.list_jobs() == []


@pytest.mark.parametrize(("method", "url", "extra"), BAD_REQUESTS)
def test_bad_input_of_a_permitted_user_names_the_field(
    api: ApiClient, method: str, url: str, extra: dict[str, Any]
) -> None:
    response = api.request(method, url, "writer", **extra)
    assert response.status_code == 400, response.text
    assert response.json()["extra"]["field"]


MAINTENANCE_HEADER = "x-host-maintenance"


async def host_maintenance(request: Request[Any, Any, Any]) -> Response[dict[str, str]] | None:
    """The host's app-level hook: answers 503 while it says it is in maintenance."""
    if request.headers.get(MAINTENANCE_HEADER):
        return Response({"detail": "maintenance"}, status_code=503)
    return None


@pytest.fixture
def host_with_hook(database: Database) -> Iterator[ApiClient]:
    """The test host with an app-level ``before_request`` hook of its own."""
    plugin_manager = get_plugin_manager(load_entry_points=False, plugins=[TestHostHooks()])
    plugin = ResyncPlugin(
        ResyncConfig(
            database=database,
            plugin_manager=plugin_manager,
            run_worker=False,
            require_csrf=False,  # GETs only
        )
    )
    app = Litestar(
        route_handlers=[ping],
        plugins=[plugin],
        middleware=[sign_in_middleware],
        before_request=host_maintenance,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiClient(client, plugin)


@pytest.mark.parametrize(("user", "expected"), [(ANONYMOUS, 401), ("nobody", 403), ("viewer", 503)])
def test_the_host_before_request_hook_runs_after_the_plugin_checks(
    host_with_hook: ApiClient, user: str | None, expected: int
) -> None:
    response = host_with_hook.get("/api/jobs", user=user, headers={MAINTENANCE_HEADER: "on"})
    assert response.status_code == expected, response.text


def test_the_host_before_request_hook_lets_requests_through(host_with_hook: ApiClient) -> None:
    response = host_with_hook.get("/api/jobs?limit=1", user="viewer")
    assert response.status_code == 200, response.text
    assert response.json() == {"jobs": [], "total": 0}
    # Its own routes too: the plugin's hook replaces the app's on the jobs routes only.
    assert host_with_hook.get("/ping", headers={MAINTENANCE_HEADER: "on"}).status_code == 503
