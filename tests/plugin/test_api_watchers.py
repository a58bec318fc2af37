"""``GET /api/jobs/watchers``: how the live workers watch the library folders, per user."""

from __future__ import annotations

import pytest
from plugin_test_host import ApiClient

from shisho_jobs import Database
from shisho_jobs.watch import WatchHealth
from shisho_jobs.watch.health_store import publish_watch_health
from shisho_jobs.workers import WorkerRegistration, register_worker

LIMIT_ERROR = "Cannot watch library 'Library 2' for changes: the OS file watch limit was reached"


def _register(database: Database, worker_id: str, *, lease_seconds: float) -> None:
    with database.write_connection() as connection:
        register_worker(
            connection,
            WorkerRegistration(id=worker_id, host="h", pid=1, concurrency=1, job_types=("scan",)),
            lease_seconds=lease_seconds,
        )


def _health(library_id: int, worker: str, state: str, error: str | None = None) -> WatchHealth:
    return WatchHealth(
        library_id=library_id,
        library_name=f"Library {library_id}",
        path=f"/books/{library_id}",
        requested="events",
        state=state,  # type: ignore[arg-type]
        folders=3,
        worker=worker,
        error=error,
    )


@pytest.fixture
def watched(api: ApiClient) -> None:
    database: Database = api.plugin.runtime.database
    _register(database, "live", lease_seconds=30)
    _register(database, "gone", lease_seconds=-1)  # expired: its watches are not shown
    assert publish_watch_health(
        database, "live", [_health(1, "live", "events"), _health(2, "live", "poll", LIMIT_ERROR)]
    )
    assert publish_watch_health(database, "gone", [_health(1, "gone", "events")])


def test_admins_see_each_library_and_how_it_is_watched(api: ApiClient, watched: None) -> None:
    response = api.get("/api/jobs/watchers", user="viewer")

    assert response.status_code == 200, response.text
    watchers = response.json()["watchers"]
    assert [(w["library_id"], w["worker"], w["state"]) for w in watchers] == [
        (1, "live", "events"),
        (2, "live", "poll"),
    ]
    assert watchers[1]["error"] == LIMIT_ERROR
    assert "error" not in watchers[0]


def test_a_user_sees_only_the_libraries_they_may_access(api: ApiClient, watched: None) -> None:
    watchers = api.get("/api/jobs/watchers", user="limited").json()["watchers"]
    assert [w["library_id"] for w in watchers] == [1]


@pytest.mark.parametrize(("user", "expected"), [(None, 401), ("nobody", 403), ("limited", 200)])
def test_watchers_needs_read(api: ApiClient, user: str | None, expected: int) -> None:
    assert api.get("/api/jobs/watchers", user=user).status_code == expected


def test_the_route_is_in_the_openapi_schema(api: ApiClient) -> None:
    paths = api.get("/schema/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/api/jobs/watchers"])
