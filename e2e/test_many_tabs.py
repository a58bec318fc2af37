"""Twenty tabs of one browser against the reference host over plain HTTP/1.1.

A browser opens at most six HTTP/1.1 connections to a host: with one event stream per tab the
seventh tab's page never loaded. The tabs share one stream (a SharedWorker, or where there is
none a leader tab chosen with Web Locks), so every tab loads and every button stays live, also
after the tab that opened the stream is closed.

The host runs no worker (``SHISHO_INPROCESS_WORKER=0``): the test moves the scan itself through
the job service, on the host's database, so each step can be watched in every tab.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from library_host.database import get_database
from shisho_jobs import Job, JobService, JobStatus
from shisho_jobs.schema import utcnow

from .conftest import Host, button, login, make_host

TABS = 20
LOAD_DEADLINE_MS = 10_000
"""Every tab loads, and its button leaves ``loading``, within this (the issue's acceptance)."""
NO_SHARED_WORKER = "delete window.SharedWorker"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(tmp_path_factory.mktemp("many-tabs"), inprocess_worker=False)
    host.start()
    yield host
    host.stop()


@pytest.fixture(params=["shared-worker", "leader-tab"])
def tabs_context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile; ``leader-tab``: one without SharedWorker (Android Chrome, say)."""
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.set_default_timeout(20_000)
    if request.param == "leader-tab":
        context.add_init_script(NO_SHARED_WORKER)
    yield context
    context.close()


@pytest.fixture
def service(host: Host) -> JobService:
    return JobService(get_database(host.settings.database_url))


def _set(service: JobService, job: Job, **changes: Any) -> Job:
    return service.update_job(msgspec.structs.replace(job, **changes), columns=list(changes))


def _open_tabs(context: BrowserContext, host: Host, count: int, path: str) -> list[Page]:
    first = context.new_page()
    login(first, host, "admin", then=path)
    tabs = [first]
    for _ in range(count - 1):
        tab = context.new_page()
        tab.goto(f"{host.url}{path}", timeout=LOAD_DEADLINE_MS)
        tabs.append(tab)
    for tab in tabs:
        expect(button(tab, 1)).not_to_have_attribute(
            "data-state", "loading", timeout=LOAD_DEADLINE_MS
        )
    return tabs


def _finish_every_scan(service: JobService) -> None:
    for job in service.list_jobs():
        if job.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS):
            _set(service, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())


def test_twenty_tabs_load_and_a_scan_of_tab_one_shows_in_tab_twenty(
    tabs_context: BrowserContext, host: Host, service: JobService
) -> None:
    tabs = _open_tabs(tabs_context, host, TABS, "/libraries/1")
    try:
        button(tabs[0], 1).locator("button").click()
        expect(button(tabs[0], 1)).to_have_attribute("data-state", "active")
        job_id = int(button(tabs[0], 1).get_attribute("data-job-id") or 0)

        # Tab 20 hears of it from the shared stream, without a reload.
        expect(button(tabs[-1], 1)).to_have_attribute("data-state", "active")
        expect(button(tabs[-1], 1)).to_have_attribute("data-job-id", str(job_id))
        job = _set(service, service.retrieve_job(job_id), status=JobStatus.IN_PROGRESS)
        job = _set(service, job, progress=30)
        expect(button(tabs[-1], 1).locator(".progress")).to_have_text("30%")

        # The tab that opened the stream (and, without SharedWorker, leads it) closes mid-scan.
        tabs.pop(0).close()
        job = _set(service, job, progress=60)
        for tab in (tabs[0], tabs[-1]):
            expect(button(tab, 1).locator(".progress")).to_have_text("60%")
        _set(service, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())
        for tab in tabs:
            expect(button(tab, 1)).to_have_attribute("data-state", "completed")
    finally:
        _finish_every_scan(service)


def test_the_job_page_stays_live_beside_buttons_in_other_tabs(
    tabs_context: BrowserContext, host: Host, service: JobService
) -> None:
    tabs = _open_tabs(tabs_context, host, TABS - 1, "/libraries/1")
    try:
        button(tabs[0], 1).locator("button").click()
        expect(button(tabs[0], 1)).to_have_attribute("data-state", "active")
        job_id = int(button(tabs[0], 1).get_attribute("data-job-id") or 0)

        job_page = tabs_context.new_page()
        job_page.goto(f"{host.url}/settings/jobs/{job_id}", timeout=LOAD_DEADLINE_MS)
        expect(job_page.locator('[data-testid="job-status"]')).to_have_text("pending")

        job = _set(service, service.retrieve_job(job_id), status=JobStatus.IN_PROGRESS)
        job = _set(service, job, progress=45)
        expect(job_page.locator('[data-testid="job-progress-text"]')).to_have_text("45%")
        expect(button(tabs[-1], 1).locator(".progress")).to_have_text("45%")

        _set(service, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())
        expect(job_page.locator('[data-testid="job-status"]')).to_have_text("completed")
        expect(job_page.locator('[data-testid="job-finished"]')).to_have_text(re.compile("UTC$"))
        for tab in tabs:
            expect(button(tab, 1)).to_have_attribute("data-state", "completed")
    finally:
        _finish_every_scan(service)
