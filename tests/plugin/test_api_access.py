"""Authorization matrix of every route: anonymous, no permissions, viewer, writer, and a
user limited to library 1 who holds jobs:write but not jobs:read."""

from __future__ import annotations

from typing import Any

import pytest
from plugin_test_host import ApiClient

from shisho_jobs import JobStatus

ANONYMOUS = None


@pytest.fixture
def jobs(api: ApiClient) -> dict[str, int]:
    """Finished jobs: a scan of library 1, a scan of library 2 and a global export."""
    service = api.plugin.runtime.service
    return {
        "library1": service.create_job("scan", library_id=1, status=JobStatus.COMPLETED).id,
        "library2": service.create_job("scan", library_id=2, status=JobStatus.FAILED).id,
        "global": service.create_job("export", status=JobStatus.COMPLETED).id,
    }


def _scan(library_id: int | None) -> dict[str, Any]:
    return {"type": "scan", "data": {}, "library_id": library_id}


@pytest.mark.parametrize(
    ("user", "library_id", "expected"),
    [
        (ANONYMOUS, 1, 401),
        ("nobody", 1, 403),
        ("viewer", 1, 403),
        ("limited", 2, 403),  # no access to library 2
        ("limited", None, 403),  # a global scan needs every library
        ("limited", 1, 201),
        ("writer", 3, 201),
    ],
)
def test_create_requires_write_and_library_access(
    api: ApiClient, user: str | None, library_id: int | None, expected: int
) -> None:
    response = api.post("/api/jobs", user=user, json=_scan(library_id))
    assert response.status_code == expected, response.text
    created = api.plugin.runtime.service.list_jobs()
    if expected == 201:
        assert response.json()["library_id"] == library_id
        assert response.json()["status"] == "pending"
        assert [job.id for job in created] == [response.json()["id"]]
    else:
        assert created == []


def test_create_refuses_an_unsafe_request_without_the_csrf_token(api: ApiClient) -> None:
    response = api.post("/api/jobs", json=_scan(1), headers={"x-csrftoken": "forged"})
    assert response.status_code == 403
    assert api.plugin.runtime.service.list_jobs() == []


def test_second_scan_gets_409_carrying_the_active_job(api: ApiClient) -> None:
    first = api.post("/api/jobs", json=_scan(1))
    assert first.status_code == 201
    # The limited user may join the scan of their library...
    second = api.post("/api/jobs", user="limited", json=_scan(1))
    assert second.status_code == 409
    assert second.json() == {
        "status_code": 409,
        "detail": "A scan job is already running or pending.",
        "extra": {"job": first.json()},
    }
    # ...and an active global scan blocks every library's scan, and is named.
    other = api.post("/api/jobs", json=_scan(2))
    assert other.status_code == 201
    blocked = api.post("/api/jobs", json=_scan(None))
    assert blocked.status_code == 409
    assert blocked.json()["extra"]["job"]["id"] in {first.json()["id"], other.json()["id"]}
    assert len(api.plugin.runtime.service.list_jobs()) == 2


@pytest.mark.parametrize(
    ("user", "expected_status", "visible"),
    [
        (ANONYMOUS, 401, None),
        ("nobody", 403, None),
        ("viewer", 200, {"library1", "library2", "global"}),
        ("writer", 200, {"library1", "library2", "global"}),
        ("limited", 200, {"library1", "global"}),  # jobs:write may read; library 2 is hidden
    ],
)
def test_list_is_filtered_by_library_access(
    api: ApiClient,
    jobs: dict[str, int],
    user: str | None,
    expected_status: int,
    visible: set[str] | None,
) -> None:
    response = api.get("/api/jobs", user=user)
    assert response.status_code == expected_status, response.text
    if visible is not None:
        body = response.json()
        assert {job["id"] for job in body["jobs"]} == {jobs[name] for name in visible}
        assert body["total"] == len(visible)
        # Newest first.
        assert [job["id"] for job in body["jobs"]] == sorted(
            (job["id"] for job in body["jobs"]), reverse=True
        )


def test_button_status_request_of_a_hidden_library_shows_only_global_jobs(
    api: ApiClient, jobs: dict[str, int]
) -> None:
    response = api.get("/api/jobs?library_id_or_global=2&limit=5", user="limited")
    assert response.status_code == 200
    assert [job["id"] for job in response.json()["jobs"]] == [jobs["global"]]


@pytest.mark.parametrize("route", ["/api/jobs/{id}", "/api/jobs/{id}/logs"])
@pytest.mark.parametrize(
    "case",
    [
        (ANONYMOUS, "library1", 401),
        ("nobody", "library1", 403),
        ("viewer", "library2", 200),
        ("writer", "library2", 200),
        ("limited", "library1", 200),
        ("limited", "global", 200),
        ("limited", "library2", 404),  # invisible, as if absent
    ],
)
def test_retrieve_and_logs_hide_jobs_of_other_libraries(
    api: ApiClient, jobs: dict[str, int], route: str, case: tuple[str | None, str, int]
) -> None:
    user, job, expected = case
    api.plugin.runtime.service.add_job_log(jobs[job], "info", "scanned 3 books")
    response = api.get(route.format(id=jobs[job]), user=user)
    assert response.status_code == expected, response.text
    if expected == 200 and route.endswith("logs"):
        assert [log["message"] for log in response.json()["logs"]] == ["scanned 3 books"]
    elif expected == 200:
        assert response.json()["id"] == jobs[job]


def test_retrieve_of_a_missing_job_is_404(api: ApiClient) -> None:
    response = api.get("/api/jobs/12345")
    assert response.status_code == 404
    assert response.json()["detail"] == "Job 12345 not found."


@pytest.mark.parametrize(("user", "expected"), [(ANONYMOUS, 401), ("nobody", 403)])
def test_events_refuse_callers_without_read_access(
    api: ApiClient, user: str | None, expected: int
) -> None:
    # Refusals are plain responses; accepted streams are tested against a real server
    # (test_events.py), since the test client buffers whole bodies.
    response = api.get("/api/jobs/events", user=user)
    assert response.status_code == expected


def test_openapi_describes_every_route_and_its_errors(api: ApiClient) -> None:
    response = api.get("/schema/openapi.json", user=ANONYMOUS)
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        ("/api/jobs", "post"): {"201", "400", "401", "403", "409", "413"},
        ("/api/jobs", "get"): {"200", "400", "401", "403"},
        ("/api/jobs/{job_id}", "get"): {"200", "400", "401", "403", "404"},
        ("/api/jobs/{job_id}/logs", "get"): {"200", "400", "401", "403", "404"},
        ("/api/jobs/events", "get"): {"200", "400", "401", "403"},
    }
    for (path, method), codes in expected.items():
        operation = paths[path][method]
        assert codes <= set(operation["responses"]), (path, method)
    body = _schema(response.json(), paths["/api/jobs"]["post"]["requestBody"])
    assert set(body["required"]) == {"type", "data"}
    list_parameters = {p["name"] for p in paths["/api/jobs"]["get"]["parameters"]}
    assert {"limit", "offset", "status", "type", "library_id_or_global"} <= list_parameters


def test_openapi_states_the_limits_the_server_enforces(api: ApiClient) -> None:
    document = api.get("/schema/openapi.json", user=ANONYMOUS).json()
    paths = document["paths"]
    body = _schema(document, paths["/api/jobs"]["post"]["requestBody"])
    assert body["additionalProperties"] is False  # unknown fields are refused
    library_id = body["properties"]["library_id"]
    assert (library_id["minimum"], library_id["maximum"]) == (1, 2**31 - 1)
    lists = {p["name"]: p for p in paths["/api/jobs"]["get"]["parameters"]}
    assert (lists["limit"]["schema"]["minimum"], lists["limit"]["schema"]["maximum"]) == (1, 100)
    assert lists["limit"]["schema"]["default"] == 10
    assert lists["offset"]["schema"]["minimum"] == 0
    statuses = _schema(document, lists["status"]["schema"]["items"])["enum"]
    assert set(statuses) == {status.value for status in JobStatus}
    logs = {p["name"]: p for p in paths["/api/jobs/{job_id}/logs"]["get"]["parameters"]}
    assert logs["limit"]["schema"]["maximum"] == 1000
    assert logs["job_id"]["in"] == "path"
    events = {p["name"]: p for p in paths["/api/jobs/events"]["get"]["parameters"]}
    assert events["last-event-id"]["in"] == "header"
    assert "library_id" in events


def _schema(document: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any]:
    """The schema of a request body or parameter, following a ``$ref`` into the components."""
    schema: dict[str, Any] = (
        holder["content"]["application/json"]["schema"] if "content" in holder else holder
    )
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema
