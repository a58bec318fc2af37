"""<shisho-resync-button> in Chromium, the states of issue 10: waiting, stalled, warning and
cancelled, each with its tooltip, badge and click; a cancel asked for; a refused click's
reason shown on the button itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from playwright.sync_api import expect
from plugin_test_host import USER_COOKIE, Site
from stand_in_worker import start_stand_in_worker, stop_stand_in_worker

from shisho_jobs import Job, JobStatus
from shisho_jobs.schema import utcnow
from shisho_jobs.worker.maintenance.stalls import FlagStalledJobs

BUTTON = "shisho-resync-button"
STALL_SECONDS = 600.0


def _element(page: Any) -> Any:
    return page.locator(BUTTON)


def _button(page: Any) -> Any:
    return page.locator(f"{BUTTON} button")


def _badge(page: Any) -> Any:
    return page.locator(f"{BUTTON} .badge")


def _set(site: Site, job: Job, **changes: Any) -> Job:
    return site.service.update_job(msgspec.structs.replace(job, **changes), columns=list(changes))


def _expect_state(page: Any, state: str, label: str) -> None:
    expect(_element(page)).to_have_attribute("data-state", state)
    expect(_button(page)).to_have_attribute("aria-label", label)
    expect(_button(page)).to_have_attribute("title", label)


def _status(page: Any) -> Any:
    return page.locator(f"{BUTTON} [role=status]")


def _spins(page: Any) -> bool:
    name: str = page.evaluate(
        """() => getComputedStyle(document.querySelector('shisho-resync-button')
              .shadowRoot.querySelector('.icon')).animationName"""
    )
    return name != "none"


def test_waiting_without_a_worker_opens_the_job_and_turns_active_when_one_starts(
    page: Any, site: Site
) -> None:
    stop_stand_in_worker(site)
    page.goto("/libraries/1")
    _expect_state(page, "idle", "Resync library")

    _button(page).click()

    _expect_state(page, "waiting", "Scan waiting - no worker is running")
    expect(_status(page)).to_have_text("Scan waiting - no worker is running")
    expect(_badge(page)).to_be_visible()
    expect(_badge(page)).to_have_attribute("data-badge", "waiting")
    assert not _spins(page)
    (job,) = site.service.list_jobs()

    start_stand_in_worker(site)  # live: the waiting ends by itself
    _expect_state(page, "active", "Scan started less than a minute ago")
    expect(_badge(page)).to_be_hidden()

    stop_stand_in_worker(site)
    _expect_state(page, "waiting", "Scan waiting - no worker is running")
    _button(page).click()
    expect(page).to_have_url(f"{site.base_url}/settings/jobs/{job.id}")
    assert len(site.service.list_jobs()) == 1


def test_a_scan_without_progress_is_stalled_and_a_click_opens_its_page(
    page: Any, site: Site
) -> None:
    job = site.service.create_job("scan", library_id=2)
    job = _set(site, job, status=JobStatus.IN_PROGRESS, started_at=utcnow() - timedelta(minutes=12))
    page.goto("/libraries/2")
    _expect_state(page, "active", "Scan started 12 minutes ago")
    assert _spins(page)

    FlagStalledJobs(
        site.database, site.service.job_types, default_seconds=STALL_SECONDS, interval=1.0
    ).run()

    _expect_state(page, "stalled", "Scan stalled - no progress for 12 minutes")
    expect(_status(page)).to_have_text("Scan stalled - no progress for 12 minutes")
    expect(_badge(page)).to_have_attribute("data-badge", "stalled")
    expect(_badge(page)).to_be_visible()
    assert not _spins(page)  # stuck is not busy: no spin
    _button(page).click()
    expect(page).to_have_url(f"{site.base_url}/settings/jobs/{job.id}")


def test_a_scan_with_warnings_has_its_own_badge_and_a_click_scans_again(
    page: Any, site: Site
) -> None:
    job = site.service.create_job("scan", library_id=1)
    job = _set(site, job, status=JobStatus.IN_PROGRESS, started_at=utcnow())
    for name in ("a.epub", "b.epub", "c.epub"):
        site.service.add_job_log(
            job.id, "warn", f"Skipped {name}", data={"path": name, "reason": "damaged"}
        )
    _set(site, job, status=JobStatus.COMPLETED, progress=100, finished_at=utcnow())
    page.goto("/libraries/1")

    _expect_state(page, "warning", "Last synced less than a minute ago - 3 warnings")
    expect(_badge(page)).to_have_attribute("data-badge", "warning")
    expect(_badge(page)).to_be_visible()
    assert not _spins(page)

    _button(page).click()
    expect(_element(page)).not_to_have_attribute("data-job-id", str(job.id))
    _expect_state(page, "active", "Scan started less than a minute ago")
    assert len(site.service.list_jobs()) == 2


def test_a_cancel_asked_for_then_cancelled_and_a_click_scans_again(page: Any, site: Site) -> None:
    job = site.service.create_job("scan", library_id=1)
    job = _set(site, job, status=JobStatus.IN_PROGRESS, started_at=utcnow())
    page.goto("/libraries/1")
    _expect_state(page, "active", "Scan started less than a minute ago")

    job = site.service.cancel_job(job.id)
    _expect_state(page, "active", "Scan started less than a minute ago - stopping")

    _set(site, job, status=JobStatus.CANCELLED, finished_at=utcnow())
    _expect_state(page, "cancelled", "Last scan cancelled less than a minute ago")
    expect(_status(page)).to_have_text("Last scan cancelled less than a minute ago")
    expect(_badge(page)).to_be_hidden()
    assert not _spins(page)

    _button(page).click()
    _expect_state(page, "active", "Scan started less than a minute ago")
    assert len(site.service.list_jobs()) == 2


def test_a_pending_scan_cancelled_elsewhere_shows_cancelled_at_once(page: Any, site: Site) -> None:
    job = site.service.create_job("scan", library_id=3)
    page.goto("/libraries/3")
    _expect_state(page, "active", "Scan started less than a minute ago")

    site.service.cancel_job(job.id)

    _expect_state(page, "cancelled", "Last scan cancelled less than a minute ago")


def test_a_refused_click_shows_its_reason_on_the_button_then_the_state_returns(
    page: Any, site: Site
) -> None:
    page.goto("/libraries/1")
    page.evaluate(
        "document.querySelector('shisho-resync-button').setAttribute('error-display-ms', '1500')"
    )
    _expect_state(page, "idle", "Resync library")
    # The user's jobs:write permission is taken away while the page is open: 403.
    page.context.add_cookies([{"name": USER_COOKIE, "value": "viewer", "url": site.base_url}])

    _button(page).click()

    reason = page.get_by_test_id("resync-error")
    expect(reason).to_be_visible()
    expect(reason).to_have_text("Could not start the scan: You need the jobs:write permission.")
    expect(_status(page)).to_have_text(
        "Could not start the scan: You need the jobs:write permission."
    )
    expect(_button(page)).to_have_attribute(
        "title", "Could not start the scan: You need the jobs:write permission."
    )
    expect(_element(page)).to_have_attribute("data-state", "idle")
    expect(reason).to_be_hidden()
    _expect_state(page, "idle", "Resync library")
    assert site.service.list_jobs() == []


def test_a_click_the_server_never_answers_says_so_on_the_button(page: Any, site: Site) -> None:
    page.route(
        "**/api/jobs",
        lambda route: route.abort() if route.request.method == "POST" else route.fallback(),
    )
    page.goto("/libraries/1")
    _expect_state(page, "idle", "Resync library")

    _button(page).click()

    expect(page.get_by_test_id("resync-error")).to_have_text(
        "Could not start the scan: the server did not answer"
    )
