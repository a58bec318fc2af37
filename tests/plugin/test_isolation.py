"""The visibility rule end to end (issue 13, item 1): a user of library 1 only reads a global
scan of libraries 1-3 through the job JSON, its logs, the event stream and a 409, and
receives nothing of libraries 2 and 3, no stack trace, no server path and no worker name;
a user of every library receives all of it. Against the test host served by uvicorn, with a
real worker running the scan, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from plugin_test_host import (
    ACCESS,
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSIONS,
    USER_HEADER,
    make_app,
    serve,
    sign_in_session,
)
from sse import Event, SseReader

from polling import wait_until
from shisho_jobs import ActorAccess, Database, JobStatus, Worker
from shisho_jobs.visibility import GLOBAL_DETAILS_HIDDEN
from shisho_resync_plugin import ResyncPlugin

KEEPALIVE = 0.5  # seconds
ENDS_WITHIN = 2 * KEEPALIVE + 5.0  # seconds: one keep-alive, and a margin for a loaded machine
DEADLINE = 30.0  # seconds for the scan to finish
# What a reader of library 1 only must never receive of the scan of libraries 1-3.
OTHER_LIBRARIES = ("Library 2", "Library 3", "library-2", "library-3")
SERVER_DETAILS = ("/srv/", "Traceback", "RuntimeError", "process_id")


@dataclass
class Site:
    base_url: str
    plugin: ResyncPlugin
    database: Database

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={USER_HEADER: user}, timeout=10)

    def post(self, user: str, url: str, body: dict[str, Any]) -> httpx.Response:
        with self.client(user) as client:
            client.get("/ping")  # the CSRF cookie
            token = client.cookies[CSRF_COOKIE]
            return client.post(url, json=body, headers={CSRF_HEADER: token})


@pytest.fixture
def site(database: Database) -> Iterator[Site]:
    app, plugin = make_app(database, keepalive_interval=KEEPALIVE, sqlite_poll_interval=0.05)
    with serve(app, plugin) as base_url:
        yield Site(base_url, plugin, database)


def _run_jobs(site: Site) -> Worker:
    worker = Worker(
        site.database, plugin_manager=site.plugin.runtime.plugin_manager, poll_interval=0.1
    )
    worker.start()
    return worker


def _finished(events: list[Event], job_id: int) -> bool:
    return any(e.job["id"] == job_id and e.job["status"] == "failed" for e in events)


def _received(site: Site, user: str, job_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with site.client(user) as client:
        job = client.get(f"/api/jobs/{job_id}").json()
        logs = client.get(f"/api/jobs/{job_id}/logs").json()["logs"]
        listed = client.get("/api/jobs").json()["jobs"]
    assert [j for j in listed if j["id"] == job_id] == [job], "the list shows the same job"
    return job, logs


def test_a_reader_of_one_library_receives_nothing_of_the_others_from_a_global_scan(
    site: Site,
) -> None:
    with (
        site.client("librarian") as librarian,
        site.client("writer") as admin,
        librarian.stream("GET", "/api/jobs/events") as librarian_response,
        admin.stream("GET", "/api/jobs/events") as admin_response,
    ):
        librarian_stream, admin_stream = SseReader(librarian_response), SseReader(admin_response)
        created = site.post("writer", "/api/jobs", {"type": "scan", "data": {}})
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        worker = _run_jobs(site)
        try:
            admin_events = admin_stream.until(lambda e: _finished([e], job_id), timeout=DEADLINE)
            librarian_events = librarian_stream.until(lambda e: _finished([e], job_id))
        finally:
            worker.stop()

    job, logs = _received(site, "librarian", job_id)
    full_job, full_logs = _received(site, "writer", job_id)

    # Everything the librarian received, as text: JSON, every log line, every event.
    librarian_text = json.dumps([job, logs, [e.job for e in librarian_events]])
    for secret in OTHER_LIBRARIES + SERVER_DETAILS:
        assert secret not in librarian_text, secret
    assert job["status"] == "failed" and job["error"] == GLOBAL_DETAILS_HIDDEN
    assert "process_id" not in job
    # Library 1's own lines do reach them, with the server path shortened.
    messages = [log["message"] for log in logs]
    assert "Scanning library 'Library 1'" in messages
    assert "Skipped unreadable file …/bad.epub of Library 1" in messages
    assert all("stack_trace" not in log for log in logs)

    # A reader of every library receives all of it: the test above is not vacuous.
    full_text = json.dumps([full_job, full_logs, [e.job for e in admin_events]])
    for secret in ("Library 2", "Library 3", "/srv/shisho/library-3", "Traceback"):
        assert secret in full_text, secret
    assert full_job["process_id"] == worker.process_id
    assert "'Library 3'" in full_job["error"]
    assert any(e.job.get("process_id") == worker.process_id for e in admin_events)


def test_a_409_carries_the_blocking_global_job_as_the_caller_may_see_it(site: Site) -> None:
    created = site.post("writer", "/api/jobs", {"type": "scan", "data": {}})
    job_id = created.json()["id"]
    # The global scan is running (a worker claimed it, so it has a process_id) while the
    # librarian asks for a scan of library 1. Claimed by hand: no worker needed to run it.
    with site.database.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE jobs SET status = 'in_progress', process_id = 'host-a:123',"
            " error = 'was /srv/shisho/library-3' WHERE id = "
            f"{job_id}"
        )

    blocked = site.post("librarian", "/api/jobs", {"type": "scan", "data": {}, "library_id": 1})
    admin_blocked = site.post("writer", "/api/jobs", {"type": "scan", "data": {}})

    assert blocked.status_code == 409, blocked.text
    shown = blocked.json()["extra"]["job"]
    assert shown["id"] == job_id and shown["status"] == JobStatus.IN_PROGRESS.value
    assert "process_id" not in shown and shown["error"] == GLOBAL_DETAILS_HIDDEN
    assert admin_blocked.json()["extra"]["job"]["process_id"] == "host-a:123"


def _wait_stream_count(site: Site, count: int) -> None:
    hub = site.plugin.runtime.hub
    wait_until(lambda: hub.subscriber_count == count, timeout=10, what=f"{count} open streams")


def test_the_ninth_stream_of_one_user_gets_429(site: Site) -> None:
    with site.client("librarian") as client, site.client("viewer") as other:
        responses = [client.send(client.build_request("GET", "/api/jobs/events"), stream=True)]
        try:
            responses += [
                client.send(client.build_request("GET", "/api/jobs/events"), stream=True)
                for _ in range(7)
            ]
            assert [r.status_code for r in responses] == [200] * 8
            ninth = client.get("/api/jobs/events")
            someone_else = other.send(other.build_request("GET", "/api/jobs/events"), stream=True)
            responses.append(someone_else)

            assert ninth.status_code == 429
            assert "8 open event streams" in ninth.json()["detail"]
            assert someone_else.status_code == 200, "the limit is per user"

            responses.pop(0).close()  # one tab closes: a new stream may open
            _wait_stream_count(site, 8)
            again = client.send(client.build_request("GET", "/api/jobs/events"), stream=True)
            responses.append(again)
            assert again.status_code == 200
        finally:
            for response in responses:
                response.close()


def test_a_stream_ends_within_one_keepalive_after_its_session_ends(site: Site) -> None:
    token = sign_in_session("librarian")
    session = {"test_session": token}
    with (
        httpx.Client(base_url=site.base_url, cookies=session, timeout=10) as client,
        client.stream("GET", "/api/jobs/events") as response,
    ):
        stream = SseReader(response)
        del SESSIONS[token]  # signed out
        # Keep-alives keep lines coming while it stays open: next() then times out.
        assert stream.next(deadline=time.monotonic() + ENDS_WITHIN) is None
    with httpx.Client(base_url=site.base_url, cookies=session, timeout=10) as client:
        again = client.get("/api/jobs/events")
    assert again.status_code == 401, "the browser's reconnect is refused"


def test_a_stream_ends_when_its_users_access_changes(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with site.client("librarian") as client, client.stream("GET", "/api/jobs/events") as response:
        stream = SseReader(response)
        moved = ActorAccess(permissions=frozenset({"jobs:read"}), library_ids=frozenset({2}))
        monkeypatch.setitem(ACCESS, "librarian", moved)
        assert stream.next(deadline=time.monotonic() + ENDS_WITHIN) is None
