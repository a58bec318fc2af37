"""The reference host and ``shisho-jobs worker`` processes, each inside a host's namespace.

An app is the reference host served by uvicorn on the host's own address (so the
tests and the browser reach it from the root namespace); a worker is the real
``shisho-jobs worker`` command with the host's hooks and the paced scanner. A
process can run with its wall clock moved (libfaketime, what ``faketime -f`` sets),
as on a host whose clock drifted.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from multihost.network import NetnsHost

BIN = Path(sys.executable).parent
TESTS_DIR = Path(__file__).resolve().parent.parent
FAKETIME_SITE = Path(__file__).resolve().parent / "faketime_site"
APP_PORT = 8000
LEASE_SECONDS = 3.0
"""The suite's workers' lease: short so rescues are quick, long enough that a heartbeat
delayed by a busy machine is not mistaken for a dead worker."""
POLL_INTERVAL = 0.2  # seconds between two looks at the queue without a wake-up
START_DEADLINE = 60.0  # seconds for a process to come up on a loaded machine
STOP_DEADLINE = 15.0  # seconds for a process to exit after SIGTERM
LIBFAKETIME_GLOB = "/usr/lib/*/faketime/libfaketimeMT.so.1"
"""The thread-safe libfaketime of Debian's ``faketime`` package (``make test`` installs it)."""
REQUEST_TIMEOUT = 10.0  # seconds


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Libraries:
    """The demo libraries every host sees, at the same paths."""

    folder: Path
    books_files: int
    """Readable book files of library 1 (its damaged file is not a book)."""


def faketime_env(offset: str) -> dict[str, str]:
    """The environment that moves a process's wall clock by ``offset`` (e.g. ``+5m``).

    What ``faketime -f`` sets, without its wrapper process, so signals reach the
    process itself. Monotonic time is left alone, as on a host whose clock is wrong
    (libfaketime's faked monotonic clock hangs ``threading`` waits); the process also
    loads ``faketime_site/sitecustomize.py``, which works around libfaketime failing
    Python's ``time.sleep`` in that mode.
    """
    library = next(iter(sorted(Path("/").glob(LIBFAKETIME_GLOB.lstrip("/")))), None)
    if library is None:
        pytest.skip(f"needs libfaketime ({LIBFAKETIME_GLOB}): apt-get install faketime")
    return {
        "LD_PRELOAD": str(library),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_NO_CACHE": "1",
    }


@dataclass
class HostProcess:
    """One process running in a host's namespace."""

    name: str
    host: NetnsHost
    process: subprocess.Popen[bytes]
    log: Path
    ready: bool = False
    """Set by :meth:`Hosts.wait_ready` once the process serves."""

    @property
    def pid(self) -> int:
        """The process id (the process itself: ``ip netns exec`` execs it)."""
        return self.process.pid

    def log_text(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def check_ready(self) -> bool:
        """Whether a worker runs its loop (its log says so)."""
        return "started (concurrency" in self.log_text()

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class App(HostProcess):
    """The reference host's web app."""

    url: str = ""

    def check_ready(self) -> bool:
        """Whether the app answers its login page."""
        try:
            return httpx.get(f"{self.url}/login", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


@dataclass
class Hosts:
    """Starts the apps and workers of one test and stops them at its end."""

    hosts: dict[str, NetnsHost]
    database_url: str
    folder: Path
    started: list[HostProcess] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def _env(self, host: NetnsHost, clock: str | None, extra: dict[str, str]) -> dict[str, str]:
        data_dir = self.folder / f"host-{host.name}"
        data_dir.mkdir(exist_ok=True)
        python_path = [str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(python_path),
            "PYTHONUNBUFFERED": "1",
            "SHISHO_DATABASE_URL": self.database_url,
            "SHISHO_DATA_DIR": str(data_dir),
            "SHISHO_INPROCESS_WORKER": "0",
            # Only the scans a test starts: no folder watching, no schedule.
            "SHISHO_WATCH": "0",
            "SHISHO_SCAN_INTERVAL_MINUTES": "0",
            **extra,
        }
        if clock is not None:
            env.update(faketime_env(clock))
            env["PYTHONPATH"] = os.pathsep.join([str(FAKETIME_SITE), env["PYTHONPATH"]])
        return env

    def _spawn(
        self, name: str, host: NetnsHost, argv: list[str], env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.folder / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                host.command(argv), env=env, stdout=output, stderr=subprocess.STDOUT
            )
        return process, log

    def app(self, host: NetnsHost, *, clock: str | None = None, **extra: str) -> App:
        """The reference host served on ``host``'s address (see :meth:`wait_ready`)."""
        name = f"app-{host.name}-{len(self.started)}"
        argv = [
            str(BIN / "python"), "-m", "uvicorn", "--factory", "library_host.app:create_app",
            "--host", host.address, "--port", str(APP_PORT), "--log-level", "warning",
        ]  # fmt: skip
        process, log = self._spawn(name, host, argv, self._env(host, clock, extra))
        app = App(name, host, process, log, url=f"http://{host.address}:{APP_PORT}")
        self.started.append(app)
        return app

    def worker(
        self,
        host: NetnsHost,
        *,
        clock: str | None = None,
        pace: float = 0.0,
        lease_seconds: float = LEASE_SECONDS,
        **extra: str,
    ) -> HostProcess:
        """A ``shisho-jobs worker`` on ``host`` (see :meth:`wait_ready`).

        Args:
            host: where it runs.
            clock: its wall clock's offset (``+5m``, ``-5m``), or ``None`` for the real time.
            pace: extra seconds per book file its scans take (see paced_scanner).
            lease_seconds: its lease.
            extra: more environment variables.
        """
        name = f"worker-{host.name}-{len(self.started)}"
        argv = [
            str(BIN / "shisho-jobs"), "worker", "--database-url", self.database_url,
            "--lease-seconds", str(lease_seconds), "--poll-interval", str(POLL_INTERVAL),
            "--plugin", "multihost.paced_scanner",
        ]  # fmt: skip
        env = self._env(host, clock, {"SHISHO_TEST_SCAN_PACE_SECONDS": str(pace), **extra})
        process, log = self._spawn(name, host, argv, env)
        worker = HostProcess(name, host, process, log)
        self.started.append(worker)
        return worker

    def wait_ready(self) -> None:
        """Wait until every process started so far serves: apps answer, workers loop.

        Processes start in parallel (a Python process takes seconds to import on a
        busy machine), so a test starts all it needs, then waits once.
        """
        for process in self.started:
            if process.ready:
                continue

            def ready(process: HostProcess = process) -> bool:
                if not process.alive():
                    raise AssertionError(f"{process.name} exited:\n{process.log_text()}")
                return process.check_ready()

            wait_until(ready, timeout=START_DEADLINE, what=f"{process.name} to start")
            process.ready = True

    def session(self, app: App, username: str = "admin") -> Session:
        """``username`` signed in to ``app``; closed when the test ends."""
        signed_in = Session(app, username)
        self.sessions.append(signed_in)
        return signed_in

    def stop_all(self) -> None:
        """Close the sessions and stop every process this test started."""
        for session in self.sessions:
            session.close()
        for process in reversed(self.started):
            process.stop()


def process_id_of(worker: HostProcess) -> re.Pattern[str]:
    """What ``jobs.process_id`` of a job run by ``worker`` looks like (``host:pid:random``)."""
    return re.compile(rf"^[^:]+:{worker.pid}:")


class Session:
    """A signed-in user of one app, speaking its HTTP API like the button does."""

    def __init__(self, app: App, username: str = "admin") -> None:
        self.app = app
        self.client = httpx.Client(base_url=app.url, timeout=REQUEST_TIMEOUT)
        form = self.client.get("/login").text
        match = re.search(r'name="_csrf_token" value="([^"]+)"', form)
        assert match, "the login form carries a CSRF token"
        response = self.client.post(
            "/login",
            data={"username": username, "password": username, "_csrf_token": match.group(1)},
        )
        assert response.status_code in (200, 303), response.text

    def close(self) -> None:
        """Drop the connection."""
        self.client.close()

    def _headers(self) -> dict[str, str]:
        return {"x-csrftoken": self.client.cookies.get("csrftoken") or ""}

    def start_scan(self, library_id: int) -> httpx.Response:
        """``POST /api/jobs`` for a scan of ``library_id`` (the button's click)."""
        body = {"type": "scan", "data": {}, "library_id": library_id}
        return self.client.post("/api/jobs", json=body, headers=self._headers())

    def cancel(self, job_id: int) -> httpx.Response:
        """``POST /api/jobs/{id}/cancel``."""
        return self.client.post(f"/api/jobs/{job_id}/cancel", headers=self._headers())

    def job(self, job_id: int) -> dict[str, Any]:
        """``GET /api/jobs/{id}``."""
        response = self.client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def jobs(self, **params: Any) -> list[dict[str, Any]]:
        """``GET /api/jobs`` (newest first)."""
        response = self.client.get("/api/jobs", params=params)
        assert response.status_code == 200, response.text
        jobs: list[dict[str, Any]] = response.json()["jobs"]
        return jobs

    def logs(self, job_id: int) -> list[dict[str, Any]]:
        """``GET /api/jobs/{id}/logs`` (oldest first)."""
        response = self.client.get(f"/api/jobs/{job_id}/logs")
        assert response.status_code == 200, response.text
        logs: list[dict[str, Any]] = response.json()["logs"]
        return logs

    @contextmanager
    def events(self, library_id: int | None = None) -> Iterator[httpx.Response]:
        """The open ``GET /api/jobs/events`` stream."""
        params = {} if library_id is None else {"library_id": library_id}
        timeout = httpx.Timeout(REQUEST_TIMEOUT, read=30.0)
        with self.client.stream("GET", "/api/jobs/events", params=params, timeout=timeout) as r:
            yield r
