"""Browser latency of issue 10's live states, for ``bench/e2e_latency.py``.

* ``cancel_click_to_not_active_ms``: a scan of a 20,000-file library runs (``force``, so
  every file is read again); the job page's cancel button is clicked in one tab, and the
  library's resync button in another tab leaves ``active``. From the click to the button's
  change, both on the browser's clock; p50 over 20 runs (target < 1 s).
* ``worker_start_to_active_ms``: a scan waits because no worker runs (``waiting``); a
  ``shisho-jobs worker`` process is started, and the button turns ``active``. From the
  process's start (the bench's clock: the same machine as the browser) to the change; and
  ``worker_registered_to_active_ms`` from the worker's row's ``started_at`` (its registration,
  after its imports) to the change (target < 1 s).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from library_host import catalog
from library_host.database import get_database
from library_host.demo import prepare_demo
from library_host.sample_data import epub_bytes
from library_host.settings import HOST, HostSettings
from polling import wait_until

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "e2e_truth_latency"
BIG_LIBRARY_ID = 4
BIG_FILES = 20_000
CANCEL_RUNS = 20
WORKER_START_RUNS = 10
DEADLINE = 120.0  # seconds
WORKER = str(Path(sys.executable).parent / "shisho-jobs")
BUTTON = f'shisho-resync-button[library-id="{BIG_LIBRARY_ID}"]'

# Records every data-state change of the button with the page's wall clock.
OBSERVE = f"""() => {{
    const element = document.querySelector('{BUTTON}');
    window.__states = [];
    new MutationObserver(() => window.__states.push([Date.now(), element.dataset.state]))
        .observe(element, {{attributes: true, attributeFilter: ["data-state"]}});
}}"""
STATE = f"() => document.querySelector('{BUTTON}').dataset.state"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _add_big_library(settings: HostSettings) -> None:
    folder = settings.libraries_dir / "big"
    content = epub_bytes("A Book Among Many", "Prolific Author", "bench-big")
    for shelf in range(BIG_FILES // 500):
        shelf_dir = folder / f"shelf-{shelf:03d}"
        shelf_dir.mkdir(parents=True)
        for number in range(500):
            (shelf_dir / f"book-{number:03d}.epub").write_bytes(content)
    catalog.ensure_library(get_database(settings.database_url), BIG_LIBRARY_ID, "Big", str(folder))


@contextmanager
def _host(name: str) -> Iterator[tuple[str, dict[str, str], HostSettings]]:
    """The reference host without a worker of its own, and the environment of its workers."""
    data_dir = DATA / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    port = _free_port()
    url = f"sqlite:///{data_dir / 'shisho.db'}"
    settings = HostSettings(data_dir, url, port, False)
    prepare_demo(settings, books=10, comics=2)
    _add_big_library(settings)
    get_database(url).dispose()
    env = {
        **os.environ,
        "SHISHO_DATA_DIR": str(data_dir),
        "SHISHO_DATABASE_URL": url,
        "SHISHO_PORT": str(port),
        "SHISHO_INPROCESS_WORKER": "0",
        "SHISHO_WATCH": "0",
    }
    with (data_dir / "host.log").open("ab") as log:
        host = subprocess.Popen(
            [sys.executable, "-m", "library_host.demo"], env=env, stdout=log, stderr=log
        )
    base = f"http://{HOST}:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/login", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout=DEADLINE, what=f"the host of {name} answers")
        yield base, env, settings
    finally:
        _stop(host)


def _worker(env: dict[str, str], settings: HostSettings) -> subprocess.Popen[bytes]:
    with (settings.data_dir / "worker.log").open("ab") as log:
        return subprocess.Popen([WORKER, "worker"], env=env, stdout=log, stderr=log)


def _login(page: Page, base: str, then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}{then}")


def _csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _start_forced_scan(page: Page, base: str) -> int:
    response = page.request.post(
        f"{base}/api/jobs",
        data={"type": "scan", "data": {"force": True}, "library_id": BIG_LIBRARY_ID},
        headers={"X-CSRFToken": _csrf(page)},
    )
    body = response.json()
    job: dict[str, Any] = body if response.ok else body["extra"]["job"]
    return int(job["id"])


def _job(page: Page, base: str, job_id: int) -> dict[str, Any]:
    job: dict[str, Any] = page.request.get(f"{base}/api/jobs/{job_id}").json()
    return job


def _first_after(page: Page, since: float, leaving: str) -> float:
    states: list[list[Any]] = page.evaluate("() => window.__states")
    return float(next(at for at, state in states if at >= since and state != leaving))


def _wait_for_job(page: Page, base: str, job_id: int, *, status: str | None = None) -> None:
    """Until the job moves (progress above 0), or has ``status``."""

    def reached() -> bool:
        job = _job(page, base, job_id)
        return bool(job["status"] == status if status is not None else job["progress"] > 0)

    wait_until(reached, timeout=DEADLINE, what=f"job {job_id} reaches {status or 'progress'}")


def measure_cancel(browser: Browser) -> list[float]:
    """Cancel click on the job page to the button (another tab) leaving ``active``."""
    figures: list[float] = []
    with _host("cancel") as (base, env, settings):
        worker = _worker(env, settings)
        context = browser.new_context()
        try:
            library = context.new_page()
            _login(library, base, f"/libraries/{BIG_LIBRARY_ID}")
            library.wait_for_function(f"() => ['idle', 'completed'].includes(({STATE})())")
            library.evaluate(OBSERVE)
            job_page = context.new_page()
            for _ in range(CANCEL_RUNS + 1):  # the first run warms up and is not counted
                job_id = _start_forced_scan(library, base)
                _wait_for_job(library, base, job_id)
                library.wait_for_function(f"() => ({STATE})() === 'active'")
                job_page.goto(f"{base}/settings/jobs/{job_id}")
                cancel = job_page.get_by_test_id("job-cancel")
                cancel.wait_for(state="visible")
                clicked_at: float = job_page.evaluate(
                    """() => { const at = Date.now();
                        document.querySelector('[data-testid="job-cancel"]').click();
                        return at; }"""
                )
                library.wait_for_function(
                    f"() => ({STATE})() !== 'active'", timeout=DEADLINE * 1000
                )
                figures.append(_first_after(library, clicked_at, "active") - clicked_at)
                _wait_for_job(library, base, job_id, status="cancelled")
        finally:
            context.close()
            _stop(worker)
    return figures[1:]


def measure_worker_start(browser: Browser) -> dict[str, list[float]]:
    """A worker process starting to a ``waiting`` button turning ``active``."""
    figures: dict[str, list[float]] = {
        "worker_start_to_active_ms": [],
        "worker_registered_to_active_ms": [],
    }
    with _host("worker_start") as (base, env, settings):
        context = browser.new_context()
        try:
            page = context.new_page()
            _login(page, base, f"/libraries/{BIG_LIBRARY_ID}")
            page.wait_for_function(
                f"() => ['idle', 'completed', 'cancelled'].includes(({STATE})())"
            )
            page.evaluate(OBSERVE)
            for _ in range(WORKER_START_RUNS + 1):  # the first run warms up
                job_id = _start_forced_scan(page, base)
                page.wait_for_function(f"() => ({STATE})() === 'waiting'", timeout=DEADLINE * 1000)
                started_at = time.time() * 1000
                worker = _worker(env, settings)
                try:
                    page.wait_for_function(
                        f"() => ({STATE})() === 'active'", timeout=DEADLINE * 1000
                    )
                    active_at = _first_after(page, started_at, "waiting")
                    workers = page.request.get(f"{base}/api/jobs/workers").json()["workers"]
                    registered = max(
                        datetime.fromisoformat(w["started_at"]).timestamp() * 1000 for w in workers
                    )
                    figures["worker_start_to_active_ms"].append(active_at - started_at)
                    figures["worker_registered_to_active_ms"].append(active_at - registered)
                    page.request.post(
                        f"{base}/api/jobs/{job_id}/cancel", headers={"X-CSRFToken": _csrf(page)}
                    )
                    _wait_for_job(page, base, job_id, status="cancelled")
                finally:
                    _stop(worker)
                page.wait_for_function(f"() => ({STATE})() === 'cancelled'")
        finally:
            context.close()
    return {name: values[1:] for name, values in figures.items()}
