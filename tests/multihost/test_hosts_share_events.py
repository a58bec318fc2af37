"""Events and start-or-join across hosts: what one host does, another host's users see."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from playwright.sync_api import BrowserContext, Locator, Page, expect

from multihost.hosts import App, Hosts, Libraries, Session, wait_until
from multihost.network import Network

BOOKS_LIBRARY_ID = 1
COMICS_LIBRARY_ID = 2
JOIN_ROUNDS = 8
FINISHED = re.compile("^(completed|warning)$")
EXPECT_MS = 30_000
SCAN_DEADLINE = 30.0  # seconds  # a busy machine: generous, and polled, never slept


def _login(page: Page, app: App, then: str) -> None:
    page.goto(f"{app.url}/login?next={then}")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    page.wait_for_url(f"{app.url}{then}")


def _button(page: Page, library_id: int) -> Locator:
    return page.locator(f'[data-testid="top-nav"] shisho-resync-button[library-id="{library_id}"]')


def test_a_click_on_host_a_shows_live_on_host_b(
    network: Network, hosts: Hosts, libraries: Libraries, context: BrowserContext
) -> None:
    app_a = hosts.app(network.hosts["a"])
    app_b = hosts.app(network.hosts["b"])
    hosts.worker(network.hosts["c"], pace=0.05)
    hosts.wait_ready()
    on_a, on_b = context.new_page(), context.new_page()
    _login(on_a, app_a, f"/libraries/{BOOKS_LIBRARY_ID}")
    _login(on_b, app_b, f"/libraries/{BOOKS_LIBRARY_ID}")
    for page in (on_a, on_b):
        expect(_button(page, BOOKS_LIBRARY_ID)).to_have_attribute("data-state", "idle")

    _button(on_a, BOOKS_LIBRARY_ID).locator("button").click()

    # Host B never served the click: it learns of the scan from the shared database.
    watching = _button(on_b, BOOKS_LIBRARY_ID)
    expect(watching).to_have_attribute("data-state", "active", timeout=EXPECT_MS)
    job_id = watching.get_attribute("data-job-id")
    assert job_id and job_id == _button(on_a, BOOKS_LIBRARY_ID).get_attribute("data-job-id")
    # Books holds one damaged file: "warning" where the button tells warnings apart.
    expect(watching).to_have_attribute("data-state", FINISHED, timeout=EXPECT_MS)
    on_b.reload()
    expect(on_b.locator('[data-testid="book-count"]')).to_have_text(
        f"{libraries.books_files} books"
    )


def _click_at_once(sessions: list[Session], library_id: int) -> list[httpx.Response]:
    """Every session's ``POST /api/jobs`` for ``library_id``, sent at the same instant."""
    barrier = threading.Barrier(len(sessions))

    def click(session: Session) -> httpx.Response:
        barrier.wait()
        return session.start_scan(library_id)

    with ThreadPoolExecutor(len(sessions)) as pool:
        return list(pool.map(click, sessions))


def test_both_hosts_clicked_at_once_start_one_scan(network: Network, hosts: Hosts) -> None:
    apps = [hosts.app(network.hosts["a"]), hosts.app(network.hosts["b"])]
    hosts.worker(network.hosts["c"])
    hosts.wait_ready()
    sessions = [hosts.session(app) for app in apps]
    for _ in range(JOIN_ROUNDS):
        answers = _click_at_once(sessions, COMICS_LIBRARY_ID)

        codes = sorted(answer.status_code for answer in answers)
        assert codes == [201, 409], [answer.text for answer in answers]
        created = next(a.json() for a in answers if a.status_code == 201)
        joined = next(a.json() for a in answers if a.status_code == 409)
        assert joined["extra"]["job"]["id"] == created["id"]
        # The next round starts once this scan is over.
        job_id = created["id"]
        wait_until(
            lambda job_id=job_id: sessions[0].job(job_id)["status"] == "completed",
            timeout=SCAN_DEADLINE,
            what=f"scan {job_id} to complete",
        )
    scans = sessions[1].jobs(type="scan", limit=100)
    assert len(scans) == JOIN_ROUNDS
    assert {job["status"] for job in scans} == {"completed"}
