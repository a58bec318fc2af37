"""The host's job page under the visibility rule (issue 13): the librarian (library 1 only)
opens a global scan's page and finds nothing of Comics or Broken, no stack trace and no
server path; the page shows the log a page at a time with a "load more" link; and an open
event stream ends after its user signs out. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar.testing import TestClient

from library_host.app import create_app
from library_host.database import get_database
from library_host.pages import JOB_LOG_PAGE_SIZE
from library_host.settings import HostSettings
from polling import wait_until
from shisho_jobs import JobService, Worker, get_plugin_manager
from shisho_jobs.dto import Job
from shisho_resync_plugin import ResyncPlugin

from .conftest import DEADLINE, csrf_token, host_client, sign_in

KEEPALIVE = 0.5  # seconds: the test host's event streams check their session this often
ENDS_WITHIN = 2 * KEEPALIVE + 5.0  # seconds: one keep-alive, and a margin for a loaded machine

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
def settings(small_demo_on_engine: Callable[..., HostSettings]) -> HostSettings:
    """A small demo (Books, Comics, Broken) on the engine under test; no in-process worker."""
    return small_demo_on_engine(books=3, comics=1, keepalive_seconds=KEEPALIVE)


@pytest.fixture
def client(settings: HostSettings) -> Iterator[Client]:
    with host_client(settings) as test_client:
        yield test_client


def _global_scan(settings: HostSettings) -> Job:
    """A scan of every demo library, run by a worker to its end (it fails: Broken)."""
    database = get_database(settings.database_url)
    manager = get_plugin_manager()  # the entry point ``shisho: library_host``
    service = JobService(database, plugin_manager=manager)
    worker = Worker(database, plugin_manager=manager, poll_interval=0.05)
    worker.start()
    try:
        job = service.create_job("scan")
        return wait_until(
            lambda: None if (now := service.retrieve_job(job.id)).is_active else now,
            timeout=DEADLINE,
            what="the global scan finishes",
        )
    finally:
        worker.stop()


def test_the_librarian_finds_nothing_of_other_libraries_on_a_global_jobs_page(
    settings: HostSettings, client: Client
) -> None:
    job = _global_scan(settings)
    data_dir = str(settings.data_dir)
    sign_in(client, "admin")
    admin_page = client.get(f"/settings/jobs/{job.id}").text
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/settings/jobs")})
    sign_in(client, "librarian")

    page = client.get(f"/settings/jobs/{job.id}").text
    listing = client.get("/settings/jobs").text

    for secret in ("Comics", "Broken", data_dir, "Traceback", "Stack trace", job.process_id):
        assert secret and secret not in page, secret
        assert secret not in listing, secret
    assert re.search(r'data-testid="job-status"[^>]*>failed<', page)
    assert "Scanning library &#39;Books&#39;" in page or "Scanning library 'Books'" in page
    # The admin's page of the same job shows all of it.
    for shown in ("Comics", "Broken", data_dir, "Stack trace"):
        assert shown in admin_page, shown


def test_the_job_page_shows_its_log_a_page_at_a_time(
    settings: HostSettings, client: Client
) -> None:
    service = JobService(get_database(settings.database_url))
    job = service.create_job("scan", library_id=1)
    ids = [service.add_job_log(job.id, "info", f"line {n}").id for n in range(250)]
    sign_in(client, "librarian")

    first = client.get(f"/settings/jobs/{job.id}").text
    more = re.search(r'<a data-testid="job-logs-more"[^>]*href="([^"]+)"([^>]*)>', first)
    assert more and "hidden" not in more.group(2)
    rest = client.get(more.group(1).replace("&amp;", "&")).text
    last = re.search(r'<a data-testid="job-logs-more"[^>]*href="[^"]+"([^>]*)>', rest)

    assert _log_ids(first) == ids[:JOB_LOG_PAGE_SIZE]
    assert more.group(1) == f"/settings/jobs/{job.id}?after_id={ids[JOB_LOG_PAGE_SIZE - 1]}"
    assert _log_ids(rest) == ids[JOB_LOG_PAGE_SIZE:]
    assert last and "hidden" in last.group(1), "no more lines: the link is hidden"


def _log_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="job-log" data-log-id="(\d+)"', html)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(settings: HostSettings) -> Iterator[str]:
    """The host served by uvicorn (a real event stream); yields its base URL."""
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=DEADLINE, what="the host starts")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.plugins.get(ResyncPlugin).runtime.hub.close_streams_threadsafe()
        server.should_exit = True
        thread.join(timeout=DEADLINE)
        get_database(settings.database_url).dispose()


def _sign_in_over_http(client: httpx.Client, username: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
    assert token
    data: dict[str, Any] = {"username": username, "password": username, "_csrf_token": token[1]}
    assert client.post("/login", data=data).status_code == 303


def test_an_open_event_stream_ends_after_its_user_signs_out(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        _sign_in_over_http(client, "librarian")
        with client.stream("GET", "/api/jobs/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith(":")  # the stream's opening comment
            token = client.cookies["csrftoken"]
            with httpx.Client(base_url=served, cookies=client.cookies, timeout=10) as other_tab:
                signed_out = other_tab.post("/logout", data={"_csrf_token": token})
            assert signed_out.status_code == 303
            deadline = threading.Event()
            timer = threading.Timer(ENDS_WITHIN, deadline.set)
            timer.start()
            try:
                for _line in lines:  # keep-alives until the stream ends
                    assert not deadline.is_set(), "the stream outlived its session"
            finally:
                timer.cancel()
        assert client.get("/api/jobs/events").status_code == 401
