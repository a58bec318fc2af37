"""PostgreSQL goes away and comes back: workers, apps and event streams carry on by themselves."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import BrowserContext, expect

from multihost.event_stream import EventLog, StreamEvent, follow
from multihost.hosts import Hosts, Libraries, wait_until
from multihost.network import Network
from multihost.private_postgres import PrivateCluster

BOOKS_LIBRARY_ID = 1
PACE = 0.1  # seconds per book file: a scan of about 4 s
SCAN_DEADLINE = 60.0  # seconds for a scan that lives through a restart
FINISHED = re.compile("^(completed|warning)$")


def _ended(job_id: int) -> object:
    def check(event: StreamEvent) -> bool:
        return event.job["id"] == job_id and event.job["status"] not in ("pending", "in_progress")

    return check


def _event_ids(db: sa.Engine, job_id: int, after: int) -> list[int]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id FROM job_events WHERE job_id = :job AND id > :after ORDER BY id"),
            {"job": job_id, "after": after},
        ).scalars()
        return list(rows)


def test_a_restart_mid_scan_loses_nothing_and_streams_resume(
    hosts: Hosts,
    postgres: PrivateCluster,
    db: sa.Engine,
    libraries: Libraries,
    context: BrowserContext,
) -> None:
    app = hosts.app(hosts.hosts["c"])
    worker = hosts.worker(hosts.hosts["a"], pace=PACE)
    hosts.wait_ready()
    page = context.new_page()
    page.goto(f"{app.url}/login?next=/libraries/{BOOKS_LIBRARY_ID}")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "admin")
    page.click('button[type="submit"]')
    button = page.locator(f'shisho-resync-button[library-id="{BOOKS_LIBRARY_ID}"]')
    expect(button).to_have_attribute("data-state", "idle")
    session = hosts.session(app)
    received = EventLog()

    button.locator("button").click()
    expect(button).to_have_attribute("data-state", "active")
    job_id = int(button.get_attribute("data-job-id") or 0)
    first = follow(session, received, lambda e: e.name == "job.progress", timeout=SCAN_DEADLINE)

    postgres.restart()

    # The stream resumes from the last event it saw (Last-Event-ID) and misses nothing.
    follow(session, received, _ended(job_id), timeout=SCAN_DEADLINE)
    assert [e.id for e in received.events if e.id > first.id] == _event_ids(db, job_id, first.id)
    messages = [line["message"] for line in session.logs(job_id)]
    assert received.events[-1].job["status"] == "completed", messages
    expect(button).to_have_attribute("data-state", FINISHED, timeout=SCAN_DEADLINE * 1000)
    assert worker.alive() and app.alive()
    page.reload()
    expect(page.locator('[data-testid="book-count"]')).to_have_text(
        f"{libraries.books_files} books"
    )


def test_requests_while_postgres_is_down_get_503_and_the_app_recovers(
    network: Network, hosts: Hosts, postgres: PrivateCluster
) -> None:
    app = hosts.app(network.hosts["c"])
    worker = hosts.worker(network.hosts["a"])
    hosts.wait_ready()
    session = hosts.session(app)
    assert session.start_scan(BOOKS_LIBRARY_ID).status_code == 201

    postgres.stop()
    try:
        listing = session.client.get("/api/jobs")
        creating = session.start_scan(2)
    finally:
        postgres.start()

    for answer in (listing, creating):
        assert answer.status_code == 503, answer.text
        assert "database" in answer.json()["detail"].lower()
    # No restart of anything: the status endpoint answers again, the worker works again.
    wait_until(
        lambda: session.client.get("/api/jobs").status_code == 200,
        timeout=SCAN_DEADLINE,
        what="the app to answer again",
    )
    assert session.start_scan(2).status_code == 201
    wait_until(
        lambda: {job["status"] for job in session.jobs(type="scan")} == {"completed"},
        timeout=SCAN_DEADLINE,
        what="both scans to complete",
    )
    assert worker.alive()
