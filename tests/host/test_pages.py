"""The host's pages through Litestar's test client: sign-in, CSRF, the nav slot, access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from library_host.app import create_app
from library_host.database import get_database
from library_host.settings import HostSettings
from polling import wait_until
from shisho_jobs import JobService, Worker, get_plugin_manager

from .conftest import csrf_token, host_client, sign_in, small_demo

DEADLINE = 30.0  # seconds


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HostSettings:
    """A small demo (5 books, 2 comics) in a data dir of its own; no in-process worker."""
    return small_demo(tmp_path / "data", monkeypatch, None, books=5, comics=2)


@pytest.fixture
def client(settings: HostSettings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with host_client(settings) as test_client:
        yield test_client


def _after_switcher(html: str) -> str:
    """The markup that follows the library switcher's closing tag in the top nav."""
    return html.split("</select>", 1)[1].lstrip()


def test_anonymous_visitor_is_sent_to_login_and_back(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/libraries/1", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=%2Flibraries%2F1"


def test_wrong_password_is_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post(
        "/login",
        data={"username": "admin", "password": "nope", "_csrf_token": csrf_token(client)},
    )

    assert response.status_code == 400
    assert "Wrong username or password." in response.text


def test_login_form_without_csrf_token_is_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    client.get("/login")

    response = client.post("/login", data={"username": "admin", "password": "admin"})

    assert response.status_code == 403


def test_admin_sees_the_button_right_after_the_switcher(client: TestClient) -> None:  # type: ignore[type-arg]
    sign_in(client, "admin")

    html = client.get("/libraries/2").text

    assert 'data-testid="top-nav"' in html
    assert re.search(r'<option value="2" selected>Comics</option>', html)
    following = re.sub(r"^(<script[^>]*></script>)+", "", _after_switcher(html))
    assert following.startswith('<shisho-resync-button library-id="2"')


def test_viewer_sees_no_button_but_may_read_jobs(client: TestClient) -> None:  # type: ignore[type-arg]
    sign_in(client, "viewer")

    assert "shisho-resync-button" not in client.get("/libraries/1").text
    assert client.get("/settings/jobs").status_code == 200


def test_librarian_has_library_one_only(client: TestClient) -> None:  # type: ignore[type-arg]
    sign_in(client, "librarian")

    page = client.get("/libraries/1").text
    assert '<shisho-resync-button library-id="1"' in page
    assert ">Comics<" not in page  # the switcher lists only what she may open
    assert client.get("/libraries/2").status_code == 404


def test_logout_ends_the_session(client: TestClient) -> None:  # type: ignore[type-arg]
    sign_in(client, "admin")

    client.post("/logout", data={"_csrf_token": csrf_token(client, "/libraries/1")})

    assert client.get("/libraries/1", follow_redirects=False).status_code in (302, 303)


def test_scan_by_a_worker_fills_the_library_page_and_the_jobs_pages(
    settings: HostSettings,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    database = get_database(settings.database_url)
    # The entry point ``shisho: library_host`` gives the worker the libraries and the scanner.
    manager = get_plugin_manager()
    service = JobService(database, plugin_manager=manager)
    worker = Worker(database, plugin_manager=manager, poll_interval=0.05)
    worker.start()
    try:
        books_scan = service.create_job("scan", library_id=1)
        broken_scan = service.create_job("scan", library_id=3)
        wait_until(
            lambda: (
                not any(service.retrieve_job(job.id).is_active for job in (books_scan, broken_scan))
            ),
            timeout=DEADLINE,
            what="the scans finish",
        )
    finally:
        worker.stop()
    sign_in(client, "admin")

    library = client.get("/libraries/1").text
    jobs = client.get("/settings/jobs").text
    failed = client.get(f"/settings/jobs/{broken_scan.id}").text
    only_failed = client.get("/settings/jobs", params={"status": "failed"}).text

    assert library.count('data-testid="book-row"') == 5
    assert re.findall(r'data-testid="job-row" data-job-id="(\d+)"', jobs) == [
        str(broken_scan.id),
        str(books_scan.id),
    ]
    assert re.search(r'data-testid="job-status"[^>]*>failed<', failed)
    assert "does not exist" in failed and 'data-testid="job-log"' in failed
    assert only_failed.count('data-testid="job-row"') == 1
    damaged = client.get(f"/settings/jobs/{books_scan.id}").text
    assert 'data-level="warn"' in damaged and "Damaged download.epub" in damaged


def test_signing_in_replaces_a_planted_session_id(
    settings: HostSettings,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    token = csrf_token(client)
    planted = "a" * 64
    client.cookies.set("session", planted)

    response = client.post(
        "/login",
        data={"username": "admin", "password": "admin", "_csrf_token": token},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.cookies.get("session") not in (None, planted)
    with TestClient(app=create_app(settings)) as attacker:
        attacker.cookies.set("session", planted)
        assert attacker.get("/libraries/1", follow_redirects=False).status_code in (302, 303)


@pytest.mark.parametrize(
    "query",
    [
        {"type": "", "status": "", "library": ""},
        {"type": "no-such-type", "status": "sleeping", "library": "x"},
        {"library": "99999999999999999999"},
    ],
)
def test_jobs_page_treats_empty_or_unknown_filters_as_any(
    client: TestClient,  # type: ignore[type-arg]
    query: dict[str, str],
) -> None:
    sign_in(client, "viewer")

    response = client.get("/settings/jobs", params=query)

    assert response.status_code == 200
    assert 'data-testid="job-total"' in response.text
