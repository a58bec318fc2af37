"""The demo React host (``frontend_snippets/demo``), built with Vite, in front of a reference host.

``vite preview`` serves the built app and passes ``/api``, ``/login``, ``/logout`` and
``/static`` through to the reference host (``frontend_snippets/demo/vite.config.ts``), so the
browser sees one origin: the session and ``csrftoken`` cookies are the API's own, as in a
production set-up behind one reverse proxy.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page

from library_host.settings import HOST

from .conftest import START_DEADLINE, Host, _stop, free_port, make_host, wait_until

SNIPPETS_DIR = Path(__file__).resolve().parent.parent / "frontend_snippets"
VITE = SNIPPETS_DIR / "node_modules" / ".bin" / "vite"
VITE_PREVIEW = (str(VITE), "preview", "demo", "--strictPort")
BUILD_DEADLINE = 300.0  # seconds for `npm run demo:build` on a busy machine


def build_react_host(log_dir: Path) -> None:
    """Type-check the demo with the template's ``tsc -b`` and build it (``npm run demo:build``).

    Raises:
        AssertionError: when the snippets' packages are not installed or the build fails.
    """
    npm = shutil.which("npm")
    if npm is None or not VITE.exists():
        raise AssertionError(
            "the React host needs Node.js and the snippets' packages: run `make test-frontend` "
            "(or `cd frontend_snippets && npm ci`)"
        )
    log = log_dir / "react-host-build.log"
    with log.open("wb") as output:
        built = subprocess.run(
            [npm, "run", "demo:build"],
            cwd=SNIPPETS_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=BUILD_DEADLINE,
            check=False,
        )
    if built.returncode != 0:
        raise AssertionError(f"`npm run demo:build` failed: see {log}")


@dataclass
class ReactHost:
    """``vite preview`` of the built demo, in front of ``api``."""

    api: Host
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the React app (and, through its proxy, of the API), no trailing slash."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start ``vite preview`` and wait until both the app and the proxied API answer."""
        with (self.api.settings.data_dir / "react-host.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*VITE_PREVIEW, "--host", HOST, "--port", str(self.port)],
                cwd=SNIPPETS_DIR,
                env={**self.api.env, "SHISHO_HOST_URL": self.api.url},
                stdout=log,
                stderr=log,
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError("vite preview exited: see react-host.log in the data dir")
            try:
                app = httpx.get(f"{self.url}/libraries/1", timeout=1.0)
                login = httpx.get(f"{self.url}/login", timeout=1.0)
            except httpx.HTTPError:
                return False
            return app.status_code == 200 and login.status_code == 200

        wait_until(answers, timeout=START_DEADLINE, what="vite preview serves the React host")

    def stop(self) -> None:
        """Stop ``vite preview``."""
        if self.process is not None:
            _stop(self.process)


def react_login(page: Page, react: ReactHost, username: str, then: str) -> None:
    """Sign in through the host's login form, on the React host's origin, then open ``then``."""
    page.goto(f"{react.url}/login?next={then}")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', username)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{react.url}{then}")


def react_button(page: Page) -> Locator:
    """The ResyncButton's wrapper (it carries ``data-state`` and ``data-job-id``) in the nav."""
    return page.locator('[data-testid="top-nav"] .shisho-resync-button')


@contextlib.contextmanager
def served_react_host(api: Host) -> Iterator[ReactHost]:
    """The React host built and served in front of ``api`` for the ``with`` block."""
    build_react_host(api.settings.data_dir)
    react = ReactHost(api=api)
    react.start()
    try:
        yield react
    finally:
        react.stop()


@contextlib.contextmanager
def react_host_without_worker(data_dir: Path) -> Iterator[ReactHost]:
    """A reference host in ``data_dir`` that runs no worker, with the React host served in front
    of it (``.api``), for the ``with`` block: the set-up of every React host module."""
    api = make_host(data_dir, inprocess_worker=False)
    api.start()
    try:
        with served_react_host(api) as react:
            yield react
    finally:
        api.stop()
