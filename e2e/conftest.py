"""End-to-end fixtures: the reference host in a subprocess, workers, and Chromium.

Each test module gets a fresh data directory and its own host on a free port,
started the way ``make demo`` starts it (``python -m library_host.demo``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

# The polling and browser helpers shared with tests/ and bench/ live in tests/.
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from chromium import running_chromium
from library_host.database import get_database
from library_host.demo import prepare_demo
from library_host.settings import HOST, HostSettings
from polling import wait_until

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
START_DEADLINE = 60.0  # seconds for a host or worker to come up
STOP_DEADLINE = 15.0  # seconds for a process to exit after SIGTERM
BIN = Path(sys.executable).parent
E2E_BOOKS = 40
E2E_COMICS = 6
EXPECT_TIMEOUT_MS = 15_000
"""How long an ``expect`` waits: the machine running the suite may be busy with other work."""

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Host:
    """A running reference host and the environment its processes share."""

    settings: HostSettings
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://{HOST}:{self.settings.port}"

    @property
    def libraries_dir(self) -> Path:
        """Where the sample libraries' folders are."""
        return self.settings.libraries_dir

    def start(self) -> None:
        """Start ``python -m library_host.demo`` and wait until it answers."""
        # The child keeps its own copy of the log's file descriptor.
        with (self.settings.data_dir / "host.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "library_host.demo"], env=self.env, stdout=log, stderr=log
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the host exited: see {self.settings.data_dir / 'host.log'}")
            try:
                return httpx.get(f"{self.url}/login", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, timeout=START_DEADLINE, what="the host answers on its port")

    def start_worker(self, **extra_env: str) -> subprocess.Popen[bytes]:
        """Start a ``shisho-jobs worker`` process on the host's database (found by entry point)."""
        with (self.settings.data_dir / "worker.log").open("ab") as log:
            worker = subprocess.Popen(
                [str(BIN / "shisho-jobs"), "worker"],
                env={**self.env, **extra_env},
                stdout=log,
                stderr=log,
            )
        self.workers.append(worker)
        return worker

    def stop_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGTERM a worker and wait for it."""
        _stop(worker)

    def stop(self) -> None:
        """Stop every worker and the host."""
        for worker in self.workers:
            _stop(worker)
        if self.process is not None:
            _stop(self.process)
        get_database(self.settings.database_url).dispose()


def make_host(data_dir: Path, *, inprocess_worker: bool, **extra_env: str) -> Host:
    """Prepare a small demo in ``data_dir`` and describe the host that serves it."""
    port = free_port()
    database_url = f"sqlite:///{data_dir / 'shisho.db'}"
    settings = HostSettings(
        data_dir=data_dir,
        database_url=database_url,
        port=port,
        inprocess_worker=inprocess_worker,
    )
    prepare_demo(settings, books=E2E_BOOKS, comics=E2E_COMICS)
    env = {
        **os.environ,
        "SHISHO_DATA_DIR": str(data_dir),
        "SHISHO_DATABASE_URL": database_url,
        "SHISHO_PORT": str(port),
        "SHISHO_INPROCESS_WORKER": "1" if inprocess_worker else "0",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    return Host(settings=settings, env=env)


# Module scope, not session: an open Playwright keeps an event loop in the main thread, which
# breaks any later test that calls asyncio.run() (see chromium.running_chromium).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with running_chromium() as browser:
        yield browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def login(page: Page, host: Host, username: str, then: str = "/") -> None:
    """Sign in through the login form as ``username`` (password = username), then open ``then``."""
    page.goto(f"{host.url}/login?next={then}")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', username)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{host.url}{then}")


def button(page: Page, library_id: int) -> Locator:
    """The resync button element of ``library_id`` in the top nav."""
    return page.locator(f'[data-testid="top-nav"] shisho-resync-button[library-id="{library_id}"]')


def screenshot(page: Page, name: str) -> None:
    """Save what the page shows under e2e/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def api_json(page: Page, host: Host, path: str) -> Any:
    """GET ``path`` of the host with the page's session (cookies)."""
    response = page.request.get(f"{host.url}{path}")
    assert response.ok, f"{path}: {response.status}"
    return response.json()
