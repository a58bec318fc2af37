"""Job types whose handlers behave on cue: for the cancel, stall, timeout and retry tests.

Every handler runs on a worker thread in the test's process and is steered through
the :class:`TruthJobs` instance registered as the plugin.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec
import pluggy

from shisho_jobs import Database, JobTypeSpec, Worker, get_plugin_manager, hookimpl
from shisho_jobs.context import JobContext, JobFailed
from shisho_jobs.watch import WatchSettings

STEP = 0.01  # seconds between two steps of a handler's loop
GIVE_UP = 60.0  # seconds after which a stuck handler returns anyway (never while a test runs)


class NoData(msgspec.Struct, forbid_unknown_fields=True):
    """These job types take no payload."""


class Counted(msgspec.Struct, frozen=True):
    """What the ``obedient`` handler reports."""

    steps: int
    stopped_early: bool


class TruthJobs:
    """A plugin of job types for tests, with the events that steer their handlers."""

    def __init__(self, *, flaky_failures: int = 2) -> None:
        self.started = threading.Event()
        """Set by a handler once it runs."""
        self.release = threading.Event()
        """Lets ``obedient``, ``finisher`` and ``stubborn`` return."""
        self.resume = threading.Event()
        """Lets ``quiet`` report progress again."""
        self.returned = threading.Event()
        """Set by ``stubborn`` once it returned."""
        self.flaky_failures = flaky_failures
        self.flaky_runs: list[int] = []

    @hookimpl
    def job_types(self) -> list[JobTypeSpec]:
        return [
            JobTypeSpec(
                name="obedient",
                payload_type=NoData,
                handler=self.obedient,
                result_type=Counted,
                plugin="truth",
            ),
            JobTypeSpec(name="finisher", payload_type=NoData, handler=self.finisher),
            JobTypeSpec(name="stubborn", payload_type=NoData, handler=self.stubborn, timeout=1.0),
            JobTypeSpec(name="quiet", payload_type=NoData, handler=self.quiet, stall_seconds=1.0),
            JobTypeSpec(
                name="flaky",
                payload_type=NoData,
                handler=self.flaky,
                max_attempts=3,
                retry_backoff=0.2,
            ),
            JobTypeSpec(
                name="misfit", payload_type=NoData, handler=self.misfit, result_type=Counted
            ),
        ]

    def obedient(self, context: JobContext) -> Counted:
        """Works in steps until released or cancelled; reports its steps."""
        self.started.set()
        steps = 0
        deadline = time.monotonic() + GIVE_UP
        while not self.release.is_set() and time.monotonic() < deadline:
            if context.cancelled:
                context.log.info("Stopping: cancelled")
                return Counted(steps=steps, stopped_early=True)
            steps += 1
            context.progress(steps % 100, 100)
            time.sleep(STEP)
        return Counted(steps=steps, stopped_early=False)

    def finisher(self, context: JobContext) -> dict[str, bool]:
        """Never looks at cancellation; returns once released."""
        self.started.set()
        self.release.wait(GIVE_UP)
        return {"finished": True}

    def stubborn(self, context: JobContext) -> None:
        """Ignores cancellation and its time limit until released."""
        self.started.set()
        self.release.wait(GIVE_UP)
        context.log.info("stubborn handler returned")
        self.returned.set()

    def quiet(self, context: JobContext) -> None:
        """Reports progress once, then none until resumed; stops when cancelled."""
        self.started.set()
        context.progress(1, 10)
        deadline = time.monotonic() + GIVE_UP
        while not context.cancelled and time.monotonic() < deadline:
            if self.resume.is_set():
                context.progress(5, 10)
                self.resume.clear()
            time.sleep(STEP)

    def flaky(self, context: JobContext) -> dict[str, int]:
        """Fails its first ``flaky_failures`` runs, then succeeds."""
        self.flaky_runs.append(context.job.id)
        if len(self.flaky_runs) <= self.flaky_failures:
            raise JobFailed(f"Run {len(self.flaky_runs)} failed on purpose.")
        return {"runs": len(self.flaky_runs)}

    def misfit(self, context: JobContext) -> dict[str, str]:
        """Returns something that does not fit its result type."""
        return {"steps": "many"}


def fast_worker(database: Database, manager: pluggy.PluginManager, **options: Any) -> Worker:
    """A worker with a short lease and poll, so that tests finish quickly; it watches no
    folder (the test host's libraries have none; the watch tests are in tests/watch)."""
    options.setdefault("watch", WatchSettings(enabled=False))
    return Worker(database, plugin_manager=manager, lease_seconds=2.0, poll_interval=0.1, **options)


def manager_of(*plugins: object) -> pluggy.PluginManager:
    """A plugin manager with the built-in job types and ``plugins``, without entry points."""
    return get_plugin_manager(load_entry_points=False, plugins=plugins)
