"""The browser's one shared jobs event stream (job-events.js) in Chromium: several tabs hold one
stream on the server, the fallback without SharedWorker hands the stream over when its leader
tab closes without losing an event, and a new sign-in never receives the previous user's events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from playwright.sync_api import expect
from plugin_test_host import USER_COOKIE, Site

from polling import wait_until
from shisho_jobs import Job, JobStatus
from shisho_resync_plugin import ResyncPlugin

DEADLINE = 15.0  # seconds; the machine running the tests may be busy
NO_SHARED_WORKER = "delete window.SharedWorker"
RECORD_EVENTS = """async () => {
  const { subscribeJobEvents } = await import("/static/shisho-resync/job-events.js");
  window.seenJobs = [];
  subscribeJobEvents({
    onEvent(event) {
      if (event.name.startsWith("job.")) window.seenJobs.push(JSON.parse(event.data));
    },
  });
}"""


@pytest.fixture(params=["shared-worker", "leader-tab"])
def context(request: pytest.FixtureRequest, browser: Any, served: tuple[Site, Any]) -> Any:
    """A browser profile signed in as `writer`; ``leader-tab``: one without SharedWorker."""
    site, _ = served
    context = browser.new_context(base_url=site.base_url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": USER_COOKIE, "value": "writer", "url": site.base_url}])
    if request.param == "leader-tab":
        context.add_init_script(NO_SHARED_WORKER)
    yield context
    context.close()


def _wait_until(condition: Callable[[], bool], message: str) -> None:
    wait_until(condition, timeout=DEADLINE, what=message)


def _set(site: Site, job: Job, **changes: Any) -> Job:
    return site.service.update_job(msgspec.structs.replace(job, **changes), columns=list(changes))


def _open(context: Any, path: str = "/libraries/1") -> Any:
    tab = context.new_page()
    tab.goto(path)
    expect(tab.locator("shisho-resync-button")).not_to_have_attribute("data-state", "loading")
    return tab


def _stream_users(plugin: ResyncPlugin) -> list[Any]:
    """Whose access each open stream on the server has (its visible libraries)."""
    return [
        subscription.visibility.visible_library_ids
        for subscription in list(plugin.runtime.hub._subscribers)  # no public view of them
    ]


def _seen_progress(tab: Any, job_id: int) -> list[int]:
    values: list[int] = tab.evaluate(
        "(id) => window.seenJobs.filter((job) => job.id === id).map((job) => job.progress)",
        job_id,
    )
    return values


def test_three_tabs_hold_one_stream_and_all_follow_a_scan(
    context: Any, served: tuple[Site, ResyncPlugin]
) -> None:
    site, plugin = served
    tabs = [_open(context) for _ in range(3)]
    hub = plugin.runtime.hub
    # A reopen keeps the old connection until the new one answers: wait for it to settle.
    _wait_until(lambda: hub.subscriber_count == 1, "the three tabs share one stream")

    job = site.service.create_job("scan", library_id=1)
    for tab in tabs:
        expect(tab.locator("shisho-resync-button")).to_have_attribute("data-state", "active")
    _set(site, job, status=JobStatus.COMPLETED, progress=100)
    for tab in tabs:
        expect(tab.locator("shisho-resync-button")).to_have_attribute("data-state", "completed")
    assert hub.subscriber_count == 1


def test_closing_the_first_tab_loses_no_event(
    context: Any, served: tuple[Site, ResyncPlugin]
) -> None:
    site, plugin = served
    first, second = _open(context), _open(context)
    second.evaluate(RECORD_EVENTS)
    job = site.service.create_job("scan", library_id=1)
    _wait_until(lambda: _seen_progress(second, job.id) == [0], "the second tab hears of it")

    # The first tab opened the stream (and leads it without SharedWorker); changes made while
    # it closes, before any new leader connects, still reach the second tab, each once.
    first.close()
    for progress in (10, 20, 30):
        job = _set(site, job, progress=progress)
    _wait_until(
        lambda: _seen_progress(second, job.id) == [0, 10, 20, 30],
        f"every change once, in order (saw {_seen_progress(second, job.id)})",
    )
    _wait_until(lambda: plugin.runtime.hub.subscriber_count == 1, "one stream remains")


def test_a_new_sign_in_does_not_receive_the_previous_users_events(
    context: Any, served: tuple[Site, ResyncPlugin]
) -> None:
    site, plugin = served
    first = _open(context)
    first.evaluate(RECORD_EVENTS)
    # Signed out and in again as `limited` (library 1 only), then a page of the new session.
    context.add_cookies([{"name": USER_COOKIE, "value": "limited", "url": site.base_url}])
    _open(context)
    _wait_until(lambda: _stream_users(plugin) == [frozenset({1})], "one stream, of `limited`")

    hidden = site.service.create_job("scan", library_id=2)
    visible = site.service.create_job("scan", library_id=1)
    _wait_until(lambda: _seen_progress(first, visible.id) == [0], "library 1's scan arrives")
    assert _seen_progress(first, hidden.id) == []
