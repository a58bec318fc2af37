"""The list answers kept between changes are never stale for changes the server can know of,
and never shared between users who see different jobs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient
from plugin_test_host import ApiClient, make_app

from polling import wait_until
from shisho_jobs import Database, JobStatus

HERE = Path(__file__).parent


@pytest.fixture(params=["access-in-thread", "access-on-loop"])
def api(request: pytest.FixtureRequest, database: Database) -> Iterator[ApiClient]:
    """The test host, calling ``actor_access`` in a worker thread or on the event loop."""
    fast = request.param == "access-on-loop"
    app, plugin = make_app(database, sqlite_poll_interval=0.05, actor_access_is_fast=fast)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiClient(client, plugin)


STATUS = "/api/jobs?type=scan&library_id_or_global=1&limit=1"


def _ids(api: ApiClient, user: str = "writer", url: str = STATUS) -> list[int]:
    response = api.get(url, user=user)
    assert response.status_code == 200
    return [job["id"] for job in response.json()["jobs"]]


def test_changes_in_this_process_show_at_once(api: ApiClient) -> None:
    service = api.plugin.runtime.service
    assert _ids(api) == []
    job = service.create_job("scan", library_id=1)
    assert _ids(api) == [job.id]
    response = api.post("/api/jobs", json={"type": "scan", "data": {}, "library_id": None})
    assert response.status_code == 409
    service.update_job(msgspec.structs.replace(job, status=JobStatus.FAILED), columns=["status"])
    assert api.get(STATUS).json()["jobs"][0]["status"] == "failed"


def test_changes_of_another_process_show_once_the_events_are_read(api: ApiClient) -> None:
    assert _ids(api) == []
    database = api.plugin.runtime.database
    url = database.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, str(HERE / "job_writer.py"), url, "scan:1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    job_id = int(result.stdout)
    wait_until(lambda: _ids(api) == [job_id], timeout=10, what="the other process's scan shows")


def test_answers_are_kept_per_visible_libraries(api: ApiClient) -> None:
    service = api.plugin.runtime.service
    hidden = service.create_job("export", library_id=2, status=JobStatus.COMPLETED)
    shown = service.create_job("export", library_id=1, status=JobStatus.COMPLETED)
    assert _ids(api, "writer", "/api/jobs") == [shown.id, hidden.id]
    assert _ids(api, "limited", "/api/jobs") == [shown.id]
    assert _ids(api, "writer", "/api/jobs") == [shown.id, hidden.id]


def test_kept_answers_still_check_who_asks(api: ApiClient) -> None:
    assert api.get(STATUS, user="writer").status_code == 200  # now kept
    assert api.get(STATUS, user=None).status_code == 401
    assert api.get(STATUS, user="nobody").status_code == 403
    assert api.get(STATUS + "&limit=2", user="writer").json()["extra"]["field"] == "limit"
