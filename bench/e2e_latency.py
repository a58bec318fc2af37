"""Browser latency of the resync button against the reference host.

For each setting, 20 scans are started by clicking the button in Chromium:

* ``finish_to_idle_ms``: from the worker finishing the scan (the job's ``finished_at``)
  to the button leaving the spinning state, seen by a MutationObserver in the page.
  The seed's polling needs up to 2,000 ms; the target is under 250 ms at p50.
* ``click_to_spinning_ms``: from the click to the icon spinning (``starting``), and
  ``click_to_active_ms`` to the server-confirmed ``active`` state.

Settings: SQLite with separate ``shisho-jobs worker`` processes (events reach the web
process through the database), SQLite with the in-process worker, and PostgreSQL with a
separate worker (LISTEN/NOTIFY) when the server is reachable.

Many tabs (the browser's tabs share one event stream): 2 and 20 tabs of the library in one
browser, the scan clicked in tab 1, the tab that opened the shared stream; ``owner_tab_*`` is
finish to idle there, ``other_tab_*`` in the last tab, which gets the events relayed. Once with
the SharedWorker, once without (a leader tab relays over a BroadcastChannel).

Figures are printed and written to bench/results/e2e_latency.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright

# The polling and browser helpers shared with tests/ and e2e/ live in tests/.
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from chromium import launch_chromium
from library_host.database import get_database
from library_host.demo import prepare_demo
from library_host.settings import HOST, HostSettings
from polling import wait_until

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "e2e_latency"
RESULTS = HERE / "results" / "e2e_latency.json"
RUNS = 20
LIBRARY_ID = 2  # Comics: a quick unchanged rescan, so each run is mostly latency
DEADLINE = 60.0  # seconds
PG_URL = os.environ.get(
    "SHISHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# Records every data-state change of the button with the page's wall clock.
OBSERVE = """() => {
    const element = document.querySelector('shisho-resync-button[library-id="LIBRARY_ID"]');
    window.__states = [];
    new MutationObserver(() => window.__states.push([Date.now(), element.dataset.state]))
        .observe(element, {attributes: true, attributeFilter: ["data-state"]});
}""".replace("LIBRARY_ID", str(LIBRARY_ID))

CLICK = """() => {
    const element = document.querySelector('shisho-resync-button[library-id="LIBRARY_ID"]');
    window.__states = [];
    window.__before = element.dataset.jobId || "";
    window.__clickedAt = Date.now();
    element.shadowRoot.querySelector("button").click();
}""".replace("LIBRARY_ID", str(LIBRARY_ID))

FINISHED = """() => {
    const element = document.querySelector('shisho-resync-button[library-id="LIBRARY_ID"]');
    return element.dataset.state === "completed" && element.dataset.jobId !== window.__before;
}""".replace("LIBRARY_ID", str(LIBRARY_ID))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for one setting, or ``None`` when the server is away."""
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"shisho_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def _serve(name: str, database_url: str | None, inprocess_worker: bool) -> Iterator[str]:
    data_dir = DATA / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    port = _free_port()
    url = database_url or f"sqlite:///{data_dir / 'shisho.db'}"
    settings = HostSettings(data_dir, url, port, inprocess_worker)
    prepare_demo(settings)
    get_database(url).dispose()
    env = {
        **os.environ,
        "SHISHO_DATA_DIR": str(data_dir),
        "SHISHO_DATABASE_URL": url,
        "SHISHO_PORT": str(port),
        "SHISHO_INPROCESS_WORKER": "1" if inprocess_worker else "0",
    }
    processes = []
    with (data_dir / "processes.log").open("ab") as log:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "library_host.demo"], env=env, stdout=log, stderr=log
            )
        )
        if not inprocess_worker:
            processes.append(
                subprocess.Popen(
                    [str(Path(sys.executable).parent / "shisho-jobs"), "worker"],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
    base = f"http://{HOST}:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/login", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout=DEADLINE, what=f"the host of {name} answers")
        yield base
    finally:
        for process in reversed(processes):
            _stop(process)


def _iso_ms(text: str) -> float:
    return datetime.fromisoformat(text).timestamp() * 1000


def _measure(page: Page, base: str) -> dict[str, list[float]]:
    page.goto(f"{base}/login?next=/libraries/{LIBRARY_ID}")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/libraries/{LIBRARY_ID}")
    page.wait_for_function(
        f"""() => ["idle", "completed"].includes(document.querySelector(
            'shisho-resync-button[library-id="{LIBRARY_ID}"]').dataset.state)"""
    )
    page.evaluate(OBSERVE)
    figures: dict[str, list[float]] = {
        "finish_to_idle_ms": [],
        "click_to_spinning_ms": [],
        "click_to_active_ms": [],
    }
    for _ in range(RUNS + 1):  # the first run warms up and is not counted
        page.evaluate(CLICK)
        page.wait_for_function(FINISHED, timeout=DEADLINE * 1000)
        clicked_at: float = page.evaluate("() => window.__clickedAt")
        states: list[list[Any]] = page.evaluate("() => window.__states")
        job_id = page.evaluate(
            f"""() => document.querySelector(
                'shisho-resync-button[library-id="{LIBRARY_ID}"]').dataset.jobId"""
        )
        job = page.request.get(f"{base}/api/jobs/{job_id}").json()
        spinning = next(at for at, state in states if state in ("starting", "active"))
        active = next((at for at, state in states if state == "active"), None)
        done = next(at for at, state in states if state == "completed")
        figures["click_to_spinning_ms"].append(spinning - clicked_at)
        if active is not None:  # a scan may finish before its "active" state is painted
            figures["click_to_active_ms"].append(active - clicked_at)
        figures["finish_to_idle_ms"].append(done - _iso_ms(job["finished_at"]))
    return {name: values[1:] for name, values in figures.items()}


# Before a click in another tab: forget the states seen and remember the job shown.
MARK = """() => {
    const element = document.querySelector('shisho-resync-button[library-id="LIBRARY_ID"]');
    window.__states = [];
    window.__before = element.dataset.jobId || "";
}""".replace("LIBRARY_ID", str(LIBRARY_ID))
TAB_COUNTS = (2, 20)
NO_SHARED_WORKER = "delete window.SharedWorker"


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/login?next=/libraries/{LIBRARY_ID}")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/libraries/{LIBRARY_ID}")


def _settled(page: Page) -> None:
    page.wait_for_function(
        f"""() => ["idle", "completed"].includes(document.querySelector(
            'shisho-resync-button[library-id="{LIBRARY_ID}"]').dataset.state)"""
    )


def _finish_to_idle(page: Page, finished_at: float) -> float:
    states: list[list[Any]] = page.evaluate("() => window.__states")
    done: float = next(at for at, state in states if state == "completed")
    return done - finished_at


def _measure_tabs(context: Any, base: str, tabs: int) -> dict[str, list[float]]:
    """Finish to idle in tab 1 (it opened the shared stream, and clicks) and in the last tab."""
    owner = context.new_page()
    _login(owner, base)
    pages = [owner]
    for _ in range(tabs - 1):
        page = context.new_page()
        page.goto(f"{base}/libraries/{LIBRARY_ID}")
        pages.append(page)
    other = pages[-1]
    for page in (owner, other):
        _settled(page)
        page.evaluate(OBSERVE)
    figures: dict[str, list[float]] = {
        "owner_tab_finish_to_idle_ms": [],
        "other_tab_finish_to_idle_ms": [],
    }
    for _ in range(RUNS + 1):  # the first run warms up and is not counted
        other.evaluate(MARK)
        owner.evaluate(CLICK)
        for page in (owner, other):
            page.wait_for_function(FINISHED, timeout=DEADLINE * 1000)
        job_id = owner.evaluate(
            f"""() => document.querySelector(
                'shisho-resync-button[library-id="{LIBRARY_ID}"]').dataset.jobId"""
        )
        finished_at = _iso_ms(owner.request.get(f"{base}/api/jobs/{job_id}").json()["finished_at"])
        figures["owner_tab_finish_to_idle_ms"].append(_finish_to_idle(owner, finished_at))
        figures["other_tab_finish_to_idle_ms"].append(_finish_to_idle(other, finished_at))
    return {name: values[1:] for name, values in figures.items()}


def _many_tabs(browser: Any, results: dict[str, Any]) -> None:
    with _serve("sqlite_many_tabs", None, False) as base:
        for transport, init_script in (("shared_worker", None), ("leader_tab", NO_SHARED_WORKER)):
            for tabs in TAB_COUNTS:
                context = browser.new_context()
                if init_script is not None:
                    context.add_init_script(init_script)
                figures = _measure_tabs(context, base, tabs)
                context.close()
                name = f"tabs_{tabs}_{transport}"
                results[name] = {metric: _summary(values) for metric, values in figures.items()}
                for metric, summary in results[name].items():
                    print(f"{name:28} {metric:28} {summary}", flush=True)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
        "runs": len(ordered),
    }


def main() -> int:
    results: dict[str, Any] = {"runs": RUNS}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        with _postgres_database() as pg_url:
            settings: list[tuple[str, str | None, bool]] = [
                ("sqlite_separate_worker", None, False),
                ("sqlite_inprocess_worker", None, True),
            ]
            if pg_url is not None:
                settings.append(("postgresql_separate_worker", pg_url, False))
            for name, database_url, inprocess in settings:
                with _serve(name, database_url, inprocess) as base:
                    context = browser.new_context()
                    figures = _measure(context.new_page(), base)
                    context.close()
                results[name] = {metric: _summary(values) for metric, values in figures.items()}
                for metric, summary in results[name].items():
                    print(f"{name:28} {metric:22} {summary}", flush=True)
        _many_tabs(browser, results)
        browser.close()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
