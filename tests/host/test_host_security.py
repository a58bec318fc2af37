"""The host's pages against a hostile visitor, on SQLite and PostgreSQL: no session stored for
anonymous requests, expired ones swept, sign-in throttled, out-of-range numbers refused with
400, and headers that keep the pages out of frames."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from limits import parse
from litestar.stores.file import FileStore
from litestar.testing import TestClient

from library_host.app import create_app
from library_host.database import get_database
from library_host.login_throttle import LoginThrottle
from library_host.pages import MAX_PAGE
from library_host.settings import HostSettings
from library_host.users import authenticate, ensure_role, ensure_user
from shisho_jobs import Database
from shisho_jobs.schema import MAX_ID

from .conftest import DEADLINE, csrf_token, sign_in

SWEEP_SECONDS = 0.05  # the test host sweeps expired sessions this often

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
def settings(small_demo_on_engine: Callable[..., HostSettings]) -> HostSettings:
    """A small demo in a data dir of its own, on the engine under test; no worker."""
    return small_demo_on_engine(books=3, comics=1, session_sweep_seconds=SWEEP_SECONDS)


@pytest.fixture
def client_for(settings: HostSettings) -> Iterator[Callable[..., Client]]:
    """Opens test clients of a host made from ``settings`` (changed by keyword arguments)."""
    clients: list[Client] = []

    def open_client(base_url: str = "http://testserver.local", **changes: Any) -> Client:
        client = TestClient(app=create_app(replace(settings, **changes)), base_url=base_url)
        clients.append(client.__enter__())
        return client

    try:
        yield open_client
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        get_database(settings.database_url).dispose()


@pytest.fixture
def client(client_for: Callable[..., Client]) -> Client:
    """A test client of the host."""
    return client_for()


def _session_files(settings: HostSettings) -> list[Path]:
    folder = settings.sessions_dir
    return sorted(folder.iterdir()) if folder.exists() else []


# --- sessions --------------------------------------------------------------------------------


def test_anonymous_requests_store_no_session(settings: HostSettings, client: Client) -> None:
    paths = ["/login", "/", "/libraries/1", "/settings/jobs", "/api/jobs", "/static/host/host.css"]

    for number in range(300):
        client.cookies.clear()  # a visitor who never sends a cookie back, as a script would
        response = client.get(paths[number % len(paths)], follow_redirects=False)
        assert response.status_code in (200, 302, 303, 401)
        assert "session" not in response.cookies

    assert _session_files(settings) == []


def test_signing_in_stores_one_session_and_signing_out_removes_it(
    settings: HostSettings, client: Client
) -> None:
    sign_in(client, "admin")
    assert len(_session_files(settings)) == 1

    client.post("/logout", data={"_csrf_token": csrf_token(client, "/libraries/1")})

    assert _session_files(settings) == []
    assert client.get("/libraries/1", follow_redirects=False).status_code in (302, 303)


def test_unknown_session_id_is_forgotten_not_stored(settings: HostSettings, client: Client) -> None:
    client.cookies.set("session", "f" * 64)

    response = client.get("/login")

    assert response.status_code == 200
    assert (
        'session="null"' in response.headers["set-cookie"]
        or "session=null" in (response.headers["set-cookie"])
    )
    assert _session_files(settings) == []


def test_expired_sessions_are_removed_on_a_schedule(settings: HostSettings, client: Client) -> None:
    sign_in(client, "admin")
    store = FileStore(settings.sessions_dir)
    asyncio.run(store.set("abandoned", b'{"user_id": 1}', expires_in=-60))

    deadline = time.monotonic() + DEADLINE
    while asyncio.run(store.exists("abandoned")):
        assert time.monotonic() < deadline, "the expired session is removed"
        time.sleep(SWEEP_SECONDS)

    assert len(_session_files(settings)) == 1, "the live session stays"
    assert client.get("/libraries/1").status_code == 200


# --- signing in ------------------------------------------------------------------------------


def _try_password(client: Client, username: str, password: str) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


def test_21st_wrong_password_in_a_minute_is_throttled(client: Client) -> None:
    for attempt in range(20):
        response = _try_password(client, "admin", f"guess-{attempt}")
        assert response.status_code == 400, f"attempt {attempt + 1}"

    throttled = _try_password(client, "admin", "guess-20")
    right_password = _try_password(client, "admin", "admin")

    for response in (throttled, right_password):
        assert response.status_code == 429
        assert "Too many failed sign-ins. Try again in" in response.text
        assert 1 <= int(response.headers["retry-after"]) <= 60
    # Another account from the same address still signs in: the count is per account.
    assert _try_password(client, "viewer", "viewer").status_code == 303


def test_failures_from_one_address_throttle_every_name(client: Client) -> None:
    client.app.state.login_throttle = LoginThrottle(per_address=parse("5/minute"))
    for attempt in range(5):
        assert _try_password(client, f"nobody-{attempt}", "x").status_code == 400

    response = _try_password(client, "viewer", "viewer")

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


def test_successful_sign_ins_are_never_throttled(client: Client) -> None:
    for _ in range(25):
        assert _try_password(client, "viewer", "viewer").status_code == 303
        client.cookies.clear()


def _scrypt_costs(run: Callable[[], object]) -> list[tuple[str, str, str]]:
    """The (N, r, p) of every scrypt computation ``run()`` makes, seen by a profiler."""
    costs: list[tuple[str, str, str]] = []

    def watch(frame: FrameType, event: str, arg: object) -> None:
        if event == "c_call" and arg is hashlib.scrypt:
            costs.append((frame.f_locals["n"], frame.f_locals["r"], frame.f_locals["p"]))

    sys.setprofile(watch)
    try:
        run()
    finally:
        sys.setprofile(None)
    return costs


def test_unknown_name_costs_the_same_scrypt_work_as_a_wrong_password(
    host_database: Database,
) -> None:
    role = ensure_role(host_database, "reader", {"jobs:read"})
    ensure_user(host_database, "reader", "right", role_id=role, library_ids=None)
    authenticate(host_database, "nobody", "warm-up")  # the stand-in hash is made once

    known = _scrypt_costs(lambda: authenticate(host_database, "reader", "wrong"))
    unknown = _scrypt_costs(lambda: authenticate(host_database, "nobody", "wrong"))

    assert len(known) == 1
    assert unknown == known
    assert authenticate(host_database, "reader", "right") is not None


# --- numbers from the request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/settings/jobs?page=99999999999", "page"),
        (f"/settings/jobs?page={MAX_PAGE + 1}", "page"),
        ("/libraries/1?page=99999999999999999", "page"),
        ("/libraries/99999999999999999999", "library_id"),
        (f"/libraries/{MAX_ID + 1}", "library_id"),
        ("/libraries/0", "library_id"),
        ("/settings/jobs/99999999999999999999", "job_id"),
        ("/settings/jobs/0", "job_id"),
    ],
)
def test_out_of_range_number_is_a_400_naming_it(client: Client, path: str, field: str) -> None:
    sign_in(client, "admin")

    response = client.get(path)

    assert response.status_code == 400
    assert "Bad request" in response.text
    assert f'data-testid="error-problem">{field}: Expected' in response.text


@pytest.mark.parametrize(
    "path",
    [
        f"/settings/jobs?page={MAX_PAGE}",
        f"/libraries/1?page={MAX_PAGE}",
        "/libraries/1?page=0",
        "/settings/jobs?page=-99999999999999999999",
    ],
)
def test_numbers_within_range_still_show_the_page(client: Client, path: str) -> None:
    sign_in(client, "admin")

    assert client.get(path).status_code == 200


# --- headers and cookies ---------------------------------------------------------------------


def test_pages_may_not_be_framed_or_sniffed(client: Client) -> None:
    anonymous = [client.get("/login"), client.get("/static/host/host.css")]
    sign_in(client, "admin")
    signed_in = [client.get("/libraries/1"), client.get("/settings/jobs?page=x"), client.get("/x")]

    for response in anonymous + signed_in:
        assert response.headers["x-frame-options"] == "DENY", response.url
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_cookies_are_secure_when_the_host_is_served_over_https(
    client_for: Callable[..., Client],
) -> None:
    plain = client_for()
    https = client_for(base_url="https://testserver.local", secure_cookies=True)

    for client, secure in ((plain, False), (https, True)):
        form = client.get("/login")
        sign_in(client, "admin")
        signed_in = client.post(
            "/login",
            data={"username": "admin", "password": "admin", "_csrf_token": csrf_token(client)},
            follow_redirects=False,
        )
        cookies = form.headers.get_list("set-cookie") + signed_in.headers.get_list("set-cookie")
        by_name = {cookie.split("=", 1)[0]: cookie for cookie in cookies}
        assert set(by_name) >= {"csrftoken", "session"}
        for cookie in by_name.values():
            assert ("Secure" in cookie) is secure, cookie


def test_secure_cookies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHISHO_SECURE_COOKIES", "1")
    assert HostSettings.from_env().secure_cookies is True
    monkeypatch.setenv("SHISHO_SECURE_COOKIES", "0")
    assert HostSettings.from_env().secure_cookies is False
