"""The job page's log in Chromium: the first page of lines, then more on demand (issue 13).

The page renders the first 200 lines; "Load more lines" fetches the next page in place
(``job-live.js``) and disappears once every line is shown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from library_host.database import get_database
from library_host.pages import JOB_LOG_PAGE_SIZE
from shisho_jobs import JobService

from .conftest import Host, login, make_host

LINES = 450


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    host = make_host(tmp_path_factory.mktemp("job-log"), inprocess_worker=False)
    host.start()
    yield host
    host.stop()


def test_more_lines_load_on_demand_until_every_line_is_shown(page: Page, host: Host) -> None:
    service = JobService(get_database(host.settings.database_url))
    job = service.create_job("scan", library_id=1, status="failed")
    for number in range(LINES):
        service.add_job_log(job.id, "info", f"line {number}")
    login(page, host, "librarian", then=f"/settings/jobs/{job.id}")
    lines = page.get_by_test_id("job-log")
    more = page.get_by_test_id("job-logs-more")

    expect(lines).to_have_count(JOB_LOG_PAGE_SIZE)
    more.click()
    expect(lines).to_have_count(2 * JOB_LOG_PAGE_SIZE)
    expect(page).to_have_url(f"{host.url}/settings/jobs/{job.id}")  # in place, no navigation
    more.click()

    expect(lines).to_have_count(LINES)
    expect(more).to_be_hidden()
    expect(lines.last).to_contain_text(f"line {LINES - 1}")
