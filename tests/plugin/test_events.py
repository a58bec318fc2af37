"""Live job events against a real server: from another process, in order, filtered by
access, resumed after a reconnect, closed promptly on shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import job_writer
import pytest
import sqlalchemy as sa
from plugin_test_host import USER_HEADER, create_schema, free_port, make_app, serve
from sse import SseReader

from polling import wait_until
from shisho_jobs import Database, JobStatus
from shisho_resync_plugin import ResyncPlugin

HERE = Path(__file__).parent
KEEPALIVE = 0.5  # seconds; keeps lines coming so reads can check their deadline


@dataclass
class Live:
    """The test host served by uvicorn, and a way to run a writer process against it."""

    base_url: str
    plugin: ResyncPlugin
    database_url: str

    @contextmanager
    def stream(
        self, user: str, query: str = "", last_event_id: int | None = None
    ) -> Iterator[SseReader]:
        headers = {USER_HEADER: user}
        if last_event_id is not None:
            headers["last-event-id"] = str(last_event_id)
        with (
            httpx.Client(base_url=self.base_url, timeout=10) as client,
            client.stream("GET", f"/api/jobs/events{query}", headers=headers) as response,
        ):
            yield SseReader(response)

    def write_here(self, *steps: str) -> list[int]:
        """Same steps in this process, through a Database of its own (no in-process wake-up)."""
        database = Database(self.database_url)
        try:
            return job_writer.run_steps(database, list(steps))
        finally:
            database.dispose()

    def write_from_another_process(self, *steps: str) -> list[int]:
        result = subprocess.run(
            [sys.executable, str(HERE / "job_writer.py"), self.database_url, *steps],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return [int(line) for line in result.stdout.split()]


def _url_text(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


@pytest.fixture
def live(database: Database) -> Iterator[Live]:
    app, plugin = make_app(database, keepalive_interval=KEEPALIVE, sqlite_poll_interval=0.05)
    with serve(app, plugin) as base_url:
        yield Live(base_url, plugin, _url_text(database))


def test_events_of_another_process_arrive_in_order(live: Live) -> None:
    with live.stream("writer") as events:
        (job_id,) = live.write_from_another_process("scan:1")
        received = events.take(4)
    assert [e.name for e in received] == [
        "job.created",
        "job.status_changed",
        "job.progress",
        "job.status_changed",
    ]
    assert [e.job["status"] for e in received] == [
        "pending",
        "in_progress",
        "in_progress",
        "completed",
    ]
    assert [e.job["progress"] for e in received] == [0, 0, 50, 100]
    assert {e.job["id"] for e in received} == {job_id}
    ids = [e.id for e in received]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 4


def test_events_are_filtered_by_access_and_library(live: Live) -> None:
    def is_global(event: object) -> bool:
        return "library_id" not in event.job  # type: ignore[attr-defined]

    with (
        live.stream("limited") as limited,  # library 1 only
        live.stream("writer", "?library_id=2") as library2,
        live.stream("viewer") as everything,
    ):
        live.write_from_another_process("export:2", "export:1", "export:3", "export:global")
        seen = {
            "limited": [e.job.get("library_id") for e in limited.until(is_global)],
            "library2": [e.job.get("library_id") for e in library2.until(is_global)],
            "everything": [e.job.get("library_id") for e in everything.until(is_global)],
        }
    assert seen == {
        "limited": [1, None],
        "library2": [2, None],
        "everything": [2, 1, 3, None],
    }


def test_stream_resumes_after_a_reconnect(live: Live) -> None:
    service = live.plugin.runtime.service
    with live.stream("writer") as events:
        live.write_here("export:1")
        (first,) = events.take(1)
    # While disconnected: a scan of library 2 runs its whole life in another process.
    live.write_here("scan:2")
    with live.stream("writer", last_event_id=first.id) as events:
        missed = events.take(4)
        later = service.create_job("export", library_id=3, status=JobStatus.COMPLETED)
        (live_event,) = events.take(1)
    assert [e.name for e in missed] == [
        "job.created",
        "job.status_changed",
        "job.progress",
        "job.status_changed",
    ]
    assert all(e.job["library_id"] == 2 for e in missed)
    assert [e.id for e in missed] == sorted(e.id for e in missed)
    assert missed[0].id is not None and first.id is not None and missed[0].id > first.id
    assert live_event.job["id"] == later.id


def test_resume_of_a_hidden_library_replays_only_what_the_user_may_see(live: Live) -> None:
    with live.stream("limited") as events:
        live.write_here("export:1")
        (first,) = events.take(1)
    live.write_here("export:2", "export:1")
    with live.stream("limited", last_event_id=first.id) as events:
        (replayed,) = events.take(1)
    assert replayed.job["library_id"] == 1


def test_unknown_last_event_id_gets_a_fresh_snapshot(live: Live) -> None:
    ids = live.write_here("export:1", "export:2")
    with live.stream("limited", last_event_id=10_000) as events:
        snapshot = events.take(1)
    # Newest jobs the user may see, as `job.snapshot`; library 2 stays hidden.
    assert [(e.name, e.job["id"]) for e in snapshot] == [("job.snapshot", ids[0])]


def test_events_of_a_missing_last_event_id_that_was_pruned_get_a_snapshot(live: Live) -> None:
    ids = live.write_here("export:1", "export:1")
    with live.plugin.runtime.database.write() as session:
        session.execute(sa.text("DELETE FROM job_events WHERE job_id = :id"), {"id": ids[0]})
    with live.stream("writer", last_event_id=0) as events:
        snapshot = events.take(2)
    # Oldest first, so the last event shows the newest state.
    assert [(e.name, e.job["id"]) for e in snapshot] == [("job.snapshot", i) for i in ids]


def test_sigterm_closes_open_streams_and_the_server_stops(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    create_schema(database)
    port = free_port()
    url = _url_text(database)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "plugin_test_host:app_from_env",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=HERE,
        env={
            **os.environ,
            "SHISHO_DATABASE_URL": url,
            "SHISHO_TEST_KEEPALIVE": "0.5",
            # plugin_test_host imports the shared test helpers of tests/.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])
            ),
        },
    )
    try:
        base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert server.poll() is None, "the server exited before it answered"
            try:
                return httpx.get(f"{base_url}/ping", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=30, what="the server answers")
        with (
            httpx.Client(base_url=base_url, timeout=10) as client,
            client.stream("GET", "/api/jobs/events", headers={USER_HEADER: "viewer"}) as response,
        ):
            events = SseReader(response)
            server.send_signal(signal.SIGTERM)
            assert events.next(time.monotonic() + 10) is None
        # uvicorn re-raises the signal once it has shut down gracefully.
        assert server.wait(timeout=10) in {0, -signal.SIGTERM}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
