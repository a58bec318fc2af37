"""Folder watching in the reference host: a book copied into the Books folder appears by itself.

The host runs its in-process worker, which watches the demo libraries' folders (the
demo's default), with a short quiet window so the test does not wait 15 seconds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from library_host.sample_data import epub_bytes

from .conftest import Host, api_json, button, login, make_host, screenshot

BOOKS_LIBRARY_ID = 1
DEBOUNCE_SECONDS = "1"
SCAN_TIMEOUT_MS = 60_000  # the quiet window, the scan and the page's refresh, on a busy machine

RECORD_STATES = """
button => {
  window.buttonStates = [button.dataset.state];
  new MutationObserver(() => window.buttonStates.push(button.dataset.state))
    .observe(button, { attributes: true, attributeFilter: ["data-state"] });
}
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(
        tmp_path_factory.mktemp("watch"),
        inprocess_worker=True,
        SHISHO_WATCH_DEBOUNCE_SECONDS=DEBOUNCE_SECONDS,
        SHISHO_WATCH_MAX_WAIT_SECONDS="10",
    )
    host.start()
    yield host
    host.stop()


def _copy_in(host: Host, title: str, tmp_path: Path) -> None:
    # Written elsewhere and copied in, as a person drops a download into the folder.
    source = tmp_path / f"{title}.epub"
    source.write_bytes(epub_bytes(title, "Watched Author", f"e2e-watch-{title}"))
    shutil.copy(source, host.libraries_dir / "books" / f"{title}.epub")


def test_a_copied_book_appears_on_the_open_library_page(
    host: Host, page: Page, tmp_path: Path
) -> None:
    login(page, host, "admin", then=f"/libraries/{BOOKS_LIBRARY_ID}")
    nav_button = button(page, BOOKS_LIBRARY_ID)
    expect(nav_button).not_to_have_attribute("data-state", "loading")
    nav_button.evaluate(RECORD_STATES)
    rows = page.locator('[data-testid="book-row"]', has_text="A Watched Arrival")
    expect(rows).to_have_count(0)

    _copy_in(host, "A Watched Arrival", tmp_path)

    expect(rows).to_have_count(1, timeout=SCAN_TIMEOUT_MS)
    expect(nav_button).to_have_attribute("data-state", "completed")
    states: list[str] = page.evaluate("window.buttonStates")
    # The open page's button showed the watch scan running, then finished.
    assert "active" in states, states
    assert states.index("active") < len(states) - 1 - states[::-1].index("completed"), states
    screenshot(page, "watch-book-appeared")
    jobs = api_json(page, host, f"/api/jobs?library_id_or_global={BOOKS_LIBRARY_ID}&limit=1")
    latest = jobs["jobs"][0]
    assert (latest["trigger"], latest["status"]) == ("watch", "completed")
    assert latest["data"]["paths"] == ["A Watched Arrival.epub"]


def test_admins_see_which_libraries_are_watched(host: Host, page: Page) -> None:
    login(page, host, "admin", then="/settings/jobs")
    rows = page.locator('[data-testid="watch-row"]')
    books = rows.filter(has_text="Books")
    expect(books).to_contain_text("Events")
    broken = rows.filter(has_text="Broken")
    expect(broken).to_contain_text("Not watched")
    watchers = api_json(page, host, "/api/jobs/watchers")["watchers"]
    assert {(w["library_id"], w["state"]) for w in watchers} >= {(1, "events"), (3, "failed")}
