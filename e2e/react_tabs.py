"""Twenty tabs of the React host in one browser, for the modules that check the tabs share one
event stream (through a SharedWorker, or a leader tab where there is none).

The host runs no worker: the tests move the scans themselves through the job service.
"""

from __future__ import annotations

from typing import Any

import msgspec
from playwright.sync_api import BrowserContext, Page, expect

from shisho_jobs import Job, JobService, JobStatus
from shisho_jobs.schema import utcnow

from .react_host import ReactHost, react_button, react_login

TABS = 20
LOAD_DEADLINE_MS = 10_000
"""Every tab loads, and its button leaves ``loading``, within this (the issue's acceptance)."""
LIVE_MS = 15_000
"""Well under the idle poll (30 s): a change seen within this came by the event stream."""


def finish_job(service: JobService, job: Job) -> Job:
    """Complete ``job`` as a worker would."""
    changes: dict[str, Any] = {
        "status": JobStatus.COMPLETED,
        "progress": 100,
        "finished_at": utcnow(),
    }
    return service.update_job(msgspec.structs.replace(job, **changes), columns=list(changes))


def open_react_tabs(context: BrowserContext, react: ReactHost) -> list[Page]:
    """``TABS`` tabs of library 1, the first signed in; each loads and shows ``idle`` in time."""
    first = context.new_page()
    react_login(first, react, "admin", then="/libraries/1")
    tabs: list[Page] = [first]
    for _ in range(TABS - 1):
        tab = context.new_page()
        tab.goto(f"{react.url}/libraries/1", timeout=LOAD_DEADLINE_MS)
        tabs.append(tab)
    for tab in tabs:
        expect(react_button(tab)).to_have_attribute("data-state", "idle", timeout=LOAD_DEADLINE_MS)
    return tabs


def scan_from_the_first_tab(tabs: list[Page]) -> int:
    """Click the first tab's button; the scan shows waiting there and, live, in the last tab.

    Returns:
        The scan's job id.
    """
    first, last = tabs[0], tabs[-1]
    react_button(first).locator("button").click()
    # No worker runs here (the test moves the job): pending is shown waiting (CONTRACT 5).
    expect(react_button(first)).to_have_attribute("data-state", "waiting")
    job_id = int(react_button(first).get_attribute("data-job-id") or 0)
    expect(react_button(last)).to_have_attribute("data-state", "waiting", timeout=LIVE_MS)
    expect(react_button(last)).to_have_attribute("data-job-id", str(job_id))
    return job_id


def expect_a_new_scan_in_first_and_last(service: JobService, tabs: list[Page]) -> None:
    """A scan created outside the browser shows live, waiting, in the first and the last tab."""
    another = service.create_job("scan", library_id=1)
    try:
        for tab in (tabs[0], tabs[-1]):
            expect(react_button(tab)).to_have_attribute(
                "data-job-id", str(another.id), timeout=LIVE_MS
            )
            expect(react_button(tab)).to_have_attribute("data-state", "waiting")
    finally:
        finish_job(service, service.retrieve_job(another.id))
