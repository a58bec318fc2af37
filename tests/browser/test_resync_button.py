"""<shisho-resync-button> in Chromium: each state, its tooltip, where a click goes, live
updates, the polling fallback, and accessibility."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import msgspec
from playwright.sync_api import Route, expect
from plugin_test_host import Site

from shisho_jobs import Job, JobStatus
from shisho_jobs.schema import utcnow

BUTTON = "shisho-resync-button"


def _element(page: Any) -> Any:
    return page.locator(BUTTON)


def _button(page: Any) -> Any:
    return page.locator(f"{BUTTON} button")


def _set(site: Site, job: Job, **changes: Any) -> Job:
    return site.service.update_job(msgspec.structs.replace(job, **changes), columns=list(changes))


def _expect_state(page: Any, state: str, label: str | re.Pattern[str]) -> None:
    expect(_element(page)).to_have_attribute("data-state", state)
    expect(_button(page)).to_have_attribute("aria-label", label)
    expect(_button(page)).to_have_attribute("title", label)


def _block_events(page: Any) -> None:
    """Make the event stream unavailable (a proxy that drops it, say). Call before goto."""
    # Playwright's routes do not see a SharedWorker's requests: without SharedWorker the page
    # itself leads the shared stream (the fallback path), and its request is routed here.
    page.add_init_script("delete window.SharedWorker")
    page.route("**/api/jobs/events**", lambda route: route.abort())


def test_idle_click_starts_a_scan_and_follows_it_live(page: Any, site: Site) -> None:
    held: list[Route] = []
    page.route(
        "**/api/jobs",
        lambda route: held.append(route) if route.request.method == "POST" else route.fallback(),
    )
    page.goto("/libraries/1")
    # Right after the library switcher in the top nav.
    expect(page.locator('[data-testid="library-switcher"] + shisho-resync-button')).to_have_count(1)
    _expect_state(page, "idle", "Resync library")

    _button(page).click()
    _expect_state(page, "starting", "Starting scan...")
    expect(page.locator(f"{BUTTON} [role=status]")).to_have_text("Starting scan...")
    assert len(held) == 1
    assert held[0].request.headers["x-csrftoken"]  # the token of the csrftoken cookie
    assert held[0].request.post_data_json == {"type": "scan", "data": {}, "library_id": 1}
    held[0].continue_()

    _expect_state(page, "active", "Scan started less than a minute ago")
    (job,) = site.service.list_jobs()
    assert job.library_id == 1 and job.status == JobStatus.PENDING
    expect(_element(page)).to_have_attribute("data-job-id", str(job.id))

    # Live events from the server: progress shows, then completion.
    job = _set(site, job, status=JobStatus.IN_PROGRESS)
    _set(site, job, progress=42)
    expect(page.locator(f"{BUTTON} .progress")).to_have_text("42%")
    expect(page.locator(f"{BUTTON} .progress")).to_be_visible()
    _set(site, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())
    _expect_state(page, "completed", "Last synced less than a minute ago")
    expect(page.locator(f"{BUTTON} [role=status]")).to_have_text(
        "Last synced less than a minute ago"
    )
    expect(page.locator(f"{BUTTON} .progress")).to_be_hidden()


def test_keyboard_starts_a_scan_and_a_second_start_joins_the_running_one(
    page: Any, site: Site
) -> None:
    site.service.create_job("scan", library_id=1, status=JobStatus.COMPLETED)
    _block_events(page)  # so the button does not hear of the scan started below
    page.goto("/libraries/1")
    _expect_state(page, "completed", "Last synced less than a minute ago")

    running = site.service.create_job("scan", library_id=None)  # a global scan elsewhere
    _button(page).focus()
    page.keyboard.press("Enter")
    # 409: the button joins the global scan instead of failing.
    _expect_state(page, "active", "Scan started less than a minute ago")
    expect(_element(page)).to_have_attribute("data-job-id", str(running.id))
    assert len(site.service.list_jobs()) == 2


def test_active_and_failed_clicks_open_the_job_page(page: Any, site: Site) -> None:
    job = site.service.create_job("scan", library_id=2)
    job = _set(site, job, status=JobStatus.IN_PROGRESS, started_at=utcnow() - timedelta(minutes=2))
    page.goto("/libraries/2")
    _expect_state(page, "active", "Scan started 2 minutes ago")
    expect(page.locator(f"{BUTTON} .badge")).to_be_hidden()
    _button(page).click()
    expect(page).to_have_url(f"{site.base_url}/settings/jobs/{job.id}")

    _set(site, job, status=JobStatus.FAILED, finished_at=utcnow())
    page.goto("/libraries/2")
    _expect_state(page, "failed", "Last scan failed - view logs")
    expect(page.locator(f"{BUTTON} .badge")).to_be_visible()  # a shape, not only colour
    _button(page).click()
    expect(page).to_have_url(f"{site.base_url}/settings/jobs/{job.id}")
    assert len(site.service.list_jobs()) == 1  # neither click started a scan


def test_a_global_scan_counts_for_every_library(page: Any, site: Site) -> None:
    page.goto("/libraries/3")
    _expect_state(page, "idle", "Resync library")
    other = site.service.create_job("scan", library_id=2)  # another library: not ours
    site.service.create_job("export", library_id=3)  # another job type: not a scan
    expect(page.locator(f"{BUTTON}[data-job-id='{other.id}']")).to_have_count(0)
    _set(site, other, status=JobStatus.COMPLETED)
    scan = site.service.create_job("scan", library_id=None)
    _expect_state(page, "active", "Scan started less than a minute ago")
    expect(_element(page)).to_have_attribute("data-job-id", str(scan.id))


def test_polls_every_two_seconds_while_active_when_the_stream_is_unavailable(
    page: Any, site: Site
) -> None:
    job = site.service.create_job("scan", library_id=1)
    _block_events(page)
    page.goto("/libraries/1")
    _expect_state(page, "active", "Scan started less than a minute ago")
    _set(site, job, status=JobStatus.FAILED, finished_at=utcnow())
    # Only a status request can tell it (the stream is blocked); one comes within 2 s.
    with page.expect_request(re.compile(r"/api/jobs\?type=scan&library_id_or_global=1&limit=1")):
        pass
    _expect_state(page, "failed", "Last scan failed - view logs")


def test_loading_state_until_the_status_arrives(page: Any, site: Site) -> None:
    held: list[Route] = []
    holding = True

    def hold(route: Route) -> None:
        if holding:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/jobs?*", hold)
    page.goto("/libraries/1")
    expect(_element(page)).to_have_attribute("data-state", "loading")
    expect(_button(page)).to_have_attribute("aria-disabled", "true")
    _button(page).click(force=True)  # does nothing while loading
    assert site.service.list_jobs() == []
    holding = False
    for route in held:
        route.continue_()
    _expect_state(page, "idle", "Resync library")


def test_relative_time_stays_current(page: Any, site: Site) -> None:
    job = site.service.create_job("scan", library_id=1, status=JobStatus.COMPLETED)
    _set(site, job, finished_at=utcnow() - timedelta(minutes=2))
    page.clock.install()
    page.goto("/libraries/1")
    _expect_state(page, "completed", "Last synced 2 minutes ago")
    page.clock.fast_forward("05:00")
    _expect_state(page, "completed", "Last synced 7 minutes ago")


def test_the_icon_spins_while_active_unless_reduced_motion_is_asked(
    browser: Any, site: Site
) -> None:
    site.service.create_job("scan", library_id=1)
    spins = {}
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(base_url=site.base_url, reduced_motion=motion)
        context.add_cookies([{"name": "test_user", "value": "writer", "url": site.base_url}])
        page = context.new_page()
        page.goto("/libraries/1")
        expect(_element(page)).to_have_attribute("data-state", "active")
        spins[motion] = page.locator(f"{BUTTON} .icon").evaluate(
            "icon => getComputedStyle(icon).animationName"
        )
        context.close()
    assert spins == {"no-preference": "shisho-resync-spin", "reduce": "none"}


def test_a_scan_that_finishes_before_the_start_request_answers_ends_completed(
    page: Any, site: Site
) -> None:
    page.goto("/libraries/1")
    _expect_state(page, "idle", "Resync library")

    def answer_after_the_scan(route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        response = route.fetch()
        job = site.service.retrieve_job(response.json()["id"])
        job = _set(site, job, status=JobStatus.IN_PROGRESS)
        _set(site, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())
        route.fulfill(response=response)

    page.route("**/api/jobs", answer_after_the_scan)
    _button(page).click()
    # Well before the 30 s status poll: from the events held while starting, or the refetch.
    _expect_state(page, "completed", "Last synced less than a minute ago")
