"""``POST /api/jobs/{id}/cancel``, ``POST /api/jobs/{id}/retry`` and ``GET /api/jobs/workers``:
answers, permissions and visibility, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from plugin_test_host import ApiClient

from shisho_jobs import JobService, JobStatus
from shisho_jobs.workers import WorkerRegistration, register_worker

ANONYMOUS = None


def _service(api: ApiClient) -> JobService:
    service: JobService = api.plugin.runtime.service
    return service


def _job(api: ApiClient, job_id: int) -> dict[str, Any]:
    response = api.get(f"/api/jobs/{job_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_of_a_pending_job_answers_200_cancelled(api: ApiClient) -> None:
    job = _service(api).create_job("scan", library_id=1)

    response = api.post(f"/api/jobs/{job.id}/cancel")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["cancel_requested"]) == (job.id, "cancelled", True)
    assert _job(api, job.id) == body


def test_cancel_of_a_running_job_answers_202_and_again_202(api: ApiClient) -> None:
    job = _service(api).create_job("scan", library_id=1, status=JobStatus.IN_PROGRESS)

    first = api.post(f"/api/jobs/{job.id}/cancel")
    second = api.post(f"/api/jobs/{job.id}/cancel")

    assert (first.status_code, second.status_code) == (202, 202)
    for response in (first, second):
        assert response.json()["status"] == "in_progress"
        assert response.json()["cancel_requested"] is True


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_cancel_of_a_finished_job_answers_409_with_the_job(
    api: ApiClient, status: JobStatus
) -> None:
    job = _service(api).create_job("scan", library_id=2, status=status)

    response = api.post(f"/api/jobs/{job.id}/cancel")

    assert response.status_code == 409
    assert response.json() == {
        "status_code": 409,
        "detail": "The job has already finished.",
        "extra": {"job": _job(api, job.id)},
    }


@pytest.mark.parametrize(
    ("user", "job", "expected"),
    [
        (ANONYMOUS, "library1", 401),
        ("nobody", "library1", 403),
        ("viewer", "library1", 403),  # jobs:read only
        ("limited", "library2", 404),  # invisible to them
        ("limited", "global", 403),  # visible, but a global job needs every library
        ("limited", "library1", 200),
        ("writer", "global", 200),
    ],
)
def test_cancel_needs_write_and_the_jobs_library(
    api: ApiClient, user: str | None, job: str, expected: int
) -> None:
    service = _service(api)
    ids = {
        "library1": service.create_job("scan", library_id=1).id,
        "library2": service.create_job("scan", library_id=2).id,
        "global": service.create_job("export").id,
    }

    response = api.post(f"/api/jobs/{ids[job]}/cancel", user=user)

    assert response.status_code == expected, response.text
    cancelled = {
        name for name, job_id in ids.items() if service.retrieve_job(job_id).status == "cancelled"
    }
    assert cancelled == ({job} if expected == 200 else set())


def test_cancel_of_a_missing_job_is_404_and_a_bad_id_400(api: ApiClient) -> None:
    assert api.post("/api/jobs/424242/cancel").status_code == 404
    bad = api.post("/api/jobs/abc/cancel")
    assert bad.status_code == 400
    assert bad.json()["extra"]["field"] == "job_id"


def test_cancel_refuses_a_request_without_the_csrf_token(api: ApiClient) -> None:
    job = _service(api).create_job("scan", library_id=1)

    response = api.post(f"/api/jobs/{job.id}/cancel", headers={"x-csrftoken": "forged"})

    assert response.status_code == 403
    assert _service(api).retrieve_job(job.id).status == JobStatus.PENDING


# --- retry -----------------------------------------------------------------------------------


def test_retry_of_a_finished_job_starts_it_again(api: ApiClient) -> None:
    failed = _service(api).create_job("scan", {"force": True}, library_id=2, status="failed")

    response = api.post(f"/api/jobs/{failed.id}/retry")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] != failed.id and body["status"] == "pending"
    assert (body["type"], body["data"], body["library_id"]) == ("scan", {"force": True}, 2)
    assert (body["trigger"], body["retry_of"]) == ("retry", failed.id)


def test_retry_of_an_active_job_answers_409_with_it(api: ApiClient) -> None:
    running = _service(api).create_job("scan", library_id=1, status=JobStatus.IN_PROGRESS)

    response = api.post(f"/api/jobs/{running.id}/retry")

    assert response.status_code == 409
    assert response.json()["extra"]["job"] == _job(api, running.id)


def test_retry_blocked_by_an_active_scan_answers_like_create(api: ApiClient) -> None:
    service = _service(api)
    failed = service.create_job("scan", library_id=1, status=JobStatus.FAILED)
    active = service.create_job("scan")  # a global scan blocks every library's

    response = api.post(f"/api/jobs/{failed.id}/retry")

    assert response.status_code == 409
    assert response.json() == {
        "status_code": 409,
        "detail": "A scan job is already running or pending.",
        "extra": {"job": _job(api, active.id)},
    }


@pytest.mark.parametrize(
    ("user", "job", "expected"),
    [
        (ANONYMOUS, "library1", 401),
        ("viewer", "library1", 403),
        ("limited", "library2", 404),
        ("limited", "global", 403),
        ("limited", "library1", 201),
    ],
)
def test_retry_needs_write_and_the_jobs_library(
    api: ApiClient, user: str | None, job: str, expected: int
) -> None:
    service = _service(api)
    ids = {
        "library1": service.create_job("scan", library_id=1, status=JobStatus.FAILED).id,
        "library2": service.create_job("scan", library_id=2, status=JobStatus.FAILED).id,
        "global": service.create_job("export", status=JobStatus.FAILED).id,
    }

    response = api.post(f"/api/jobs/{ids[job]}/retry", user=user)

    assert response.status_code == expected, response.text
    retries = [found for found in service.list_jobs() if found.retry_of is not None]
    assert [found.retry_of for found in retries] == ([ids[job]] if expected == 201 else [])


# --- workers ---------------------------------------------------------------------------------


def test_workers_lists_the_live_workers(api: ApiClient) -> None:
    database = _service(api).database
    with database.write_connection() as connection:
        register_worker(
            connection,
            WorkerRegistration(
                id="host-b:77:abc", host="host-b", pid=77, concurrency=4, job_types=("scan",)
            ),
            lease_seconds=30,
        )
        register_worker(
            connection,
            WorkerRegistration(id="gone", host="host-c", pid=1, concurrency=1, job_types=()),
            lease_seconds=-1,  # expired
        )

    response = api.get("/api/jobs/workers", user="viewer")

    assert response.status_code == 200, response.text
    (worker,) = response.json()["workers"]
    assert {key: worker[key] for key in ("id", "host", "pid", "concurrency", "job_types")} == {
        "id": "host-b:77:abc",
        "host": "host-b",
        "pid": 77,
        "concurrency": 4,
        "job_types": ["scan"],
    }
    assert worker["started_at"].endswith("Z") and worker["heartbeat_at"].endswith("Z")


def test_a_reader_of_some_libraries_sees_the_workers_without_naming_their_servers(
    api: ApiClient,
) -> None:
    with _service(api).database.write_connection() as connection:
        register_worker(
            connection,
            WorkerRegistration(
                id="books-host:77:abc",
                host="books-host",
                pid=77,
                concurrency=2,
                job_types=("scan",),
            ),
            lease_seconds=30,
        )

    response = api.get("/api/jobs/workers", user="limited")

    assert response.status_code == 200, response.text
    (worker,) = response.json()["workers"]
    assert "books-host" not in response.text
    assert (worker["id"], worker["host"], worker["pid"]) == ("", "", 0)
    assert (worker["concurrency"], worker["job_types"]) == (2, ["scan"])


@pytest.mark.parametrize(
    ("user", "expected"), [(ANONYMOUS, 401), ("nobody", 403), ("limited", 200)]
)
def test_workers_needs_read(api: ApiClient, user: str | None, expected: int) -> None:
    assert api.get("/api/jobs/workers", user=user).status_code == expected


def test_the_routes_are_in_the_openapi_schema(api: ApiClient) -> None:
    paths = api.get("/schema/openapi.json").json()["paths"]

    assert {"post"} <= set(paths["/api/jobs/{job_id}/cancel"])
    assert {"post"} <= set(paths["/api/jobs/{job_id}/retry"])
    assert {"get"} <= set(paths["/api/jobs/workers"])
