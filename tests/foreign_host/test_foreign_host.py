"""A host written from the README and docs/ only gets a working button (issue 14).

The host (``app/``) has its own ``libraries`` table and Alembic history, its own sign-in and
templates, and runs from its folder against shisho-resync installed from the built wheel;
its worker is a separate ``shisho-jobs worker --plugin bookshelf.hooks``.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from bookshelf_site import Bookshelf, run_env

from chromium import chromium_or_skip
from polling import wait_until

SCAN_DEADLINE = 60_000  # milliseconds for a click's scan to show as finished on the button

# The first test also pays for building the wheel and the virtual environment (about
# 1.5 minutes on a loaded 2-core machine): more than the default per-test limit.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless system Chromium for this module."""
    with chromium_or_skip() as chromium:
        yield chromium


def _signed_in_page(browser: Any, bookshelf: Bookshelf, name: str) -> Any:
    page = browser.new_context(base_url=bookshelf.base_url).new_page()
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"{name}-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/libraries/1")
    return page


def _scan_by_click(browser: Any, bookshelf: Bookshelf) -> Any:
    """Sign in as ada, click the button of library 1, wait until the button says it is done."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page = _signed_in_page(browser, bookshelf, "ada")
    element = page.locator("shisho-resync-button")
    expect(element).to_have_attribute(
        "data-state", re.compile("^(idle|completed)$"), timeout=SCAN_DEADLINE
    )
    page.locator("shisho-resync-button button").click()
    expect(element).to_have_attribute("data-state", "completed", timeout=SCAN_DEADLINE)
    return page


def _history(bookshelf: Bookshelf) -> tuple[int, int, int]:
    with sqlite3.connect(bookshelf.folder / "var" / "shisho.db") as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("jobs", "job_logs", "job_events")
        )


def test_the_button_of_a_foreign_host_scans_its_library(browser: Any, bookshelf: Bookshelf) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page = _scan_by_click(browser, bookshelf)

    # Right after the host's own library switcher, as the template put it.
    expect(page.locator('[data-testid="library-switcher"] + shisho-resync-button')).to_have_count(1)
    button = page.locator("shisho-resync-button button")
    expect(button).to_have_attribute("aria-label", re.compile("^Last synced "))
    answer = page.request.get("/api/jobs?type=scan&library_id_or_global=1&limit=1").json()
    (job,) = answer["jobs"]
    assert job["status"] == "completed"
    # The host's job page, read through JobService, shows what the worker logged.
    page.goto(f"/settings/jobs/{job['id']}")
    expect(page.locator('[data-testid="job-status"]')).to_have_text("completed")
    expect(page.locator('[data-testid="job-log"]').last).to_contain_text("Scanned library 'Books'")
    # The worker found the host's hooks through --plugin, from the app's folder.
    assert "no plugin answers" not in bookshelf.worker_log.read_text()


def test_a_reader_of_the_foreign_host_gets_no_button(browser: Any, bookshelf: Bookshelf) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page = _signed_in_page(browser, bookshelf, "bob")
    expect(page.locator('[data-testid="library-switcher"]')).to_be_visible()
    expect(page.locator("shisho-resync-button")).to_have_count(0)


def test_the_hosts_batch_rebuild_of_libraries_keeps_the_job_history(
    browser: Any, bookshelf: Bookshelf
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    _scan_by_click(browser, bookshelf)
    before = _history(bookshelf)
    assert min(before) > 0

    # The host's next release rebuilds `libraries` (SQLite: copy, drop, rename).
    upgraded = bookshelf.run("alembic", "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr

    assert _history(bookshelf) == before
    page = _signed_in_page(browser, bookshelf, "ada")
    expect(page.locator("shisho-resync-button")).to_have_attribute(
        "data-state", "completed", timeout=SCAN_DEADLINE
    )


def test_the_hosts_autogenerate_leaves_our_tables_alone(bookshelf: Bookshelf) -> None:
    assert bookshelf.run("alembic", "upgrade", "head").returncode == 0
    checked = bookshelf.run("alembic", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_db_current_names_the_database_and_its_revision(bookshelf: Bookshelf) -> None:
    current = bookshelf.run("shisho-jobs", "db", "current")
    assert current.returncode == 0, current.stderr
    database = (bookshelf.folder / "var" / "shisho.db").resolve()
    assert f"database: sqlite:///{database}" in current.stdout
    assert "(head)" in current.stdout


def test_a_worker_started_without_the_hosts_module_says_so(bookshelf: Bookshelf) -> None:
    # The host is not installed (no entry point): without --plugin nothing finds its hooks.
    log = bookshelf.folder / "worker-without-plugin.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [bookshelf.venv.bin("shisho-jobs"), "worker"],
            cwd=bookshelf.folder,
            env=run_env(bookshelf.venv),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: "no plugin answers" in log.read_text() or worker.poll() is not None,
            timeout=60,
            what="the worker warns about the host's hooks",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    warning = next(line for line in log.read_text().splitlines() if "no plugin answers" in line)
    assert "get_library, list_libraries, scan_library" in warning
    assert "--plugin" in warning


def test_a_misspelt_plugin_module_is_one_line(bookshelf: Bookshelf) -> None:
    result = bookshelf.run("shisho-jobs", "worker", "--plugin", "bookshelf.hook")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"shisho-jobs worker: --plugin bookshelf.hook: no module named 'bookshelf.hook' in "
        f"{bookshelf.folder.resolve()} or the installed packages (run the worker from the folder "
        "that holds it, or install the host)"
    ]


def test_an_app_with_a_bare_plugin_manager_warns_about_actor_access(bookshelf: Bookshelf) -> None:
    # What the README showed before: get_plugin_manager() alone, in a host that is not installed.
    app = (
        "from litestar import Litestar\n"
        "from litestar.config.csrf import CSRFConfig\n"
        "from shisho_jobs import get_plugin_manager\n"
        "from shisho_resync_plugin import ResyncConfig, ResyncPlugin\n"
        "config = ResyncConfig(database='sqlite:///var/shisho.db', run_worker=False,\n"
        "                      plugin_manager=get_plugin_manager())\n"
        "Litestar(plugins=[ResyncPlugin(config)], csrf_config=CSRFConfig(secret='s'))\n"
    )
    result = bookshelf.run("python", "-c", app)
    assert result.returncode == 0, result.stderr
    assert "ResyncPlugin: no plugin answers actor_access" in result.stderr
