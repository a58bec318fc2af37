"""The jobs a worker is running now, and keeping their leases.

Slot threads add and remove their runs; the supervising thread renews the leases of all of
them in one heartbeat (a third of the lease apart) and reads, every poll interval, whether
someone asked to cancel one. A run whose lease was taken over, or whose cancel was asked
for, is told to stop through its cancellation.
"""

from __future__ import annotations

import math
import threading
import time

from shisho_jobs.context import CancelReason
from shisho_jobs.worker.runner import JobRun
from shisho_jobs.worker.store import WorkerStore


class RunningJobs:
    """The runs of one worker, by job id, with their heartbeats and cancel checks.

    Args:
        store: the worker's store, for the heartbeat and the cancel check.
        lease_seconds: how long a claim stays valid without a heartbeat.
        poll_interval: seconds between two reads of the cancel requests.
    """

    def __init__(self, store: WorkerStore, *, lease_seconds: float, poll_interval: float) -> None:
        self._store = store
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._runs: dict[int, JobRun] = {}
        self._lock = threading.Lock()
        self._next_heartbeat = 0.0
        self._next_cancel_check = 0.0

    def add(self, run: JobRun) -> None:
        """A slot started running ``run``."""
        with self._lock:
            self._runs[run.job.id] = run

    def remove(self, job_id: int) -> None:
        """The slot's run of ``job_id`` ended."""
        with self._lock:
            self._runs.pop(job_id, None)

    def get(self, job_id: int) -> JobRun | None:
        """The run of ``job_id`` here, if it runs here."""
        with self._lock:
            return self._runs.get(job_id)

    def job_ids(self) -> list[int]:
        """Ids of the jobs running now, in order."""
        with self._lock:
            return sorted(self._runs)

    def runs(self) -> list[JobRun]:
        """The runs now, a copy the caller may walk while slots come and go."""
        with self._lock:
            return list(self._runs.values())

    def seconds_until_due(self) -> float:
        """Seconds until the next heartbeat or cancel check; infinite while nothing runs."""
        with self._lock:
            busy = bool(self._runs)
        if not busy:
            return math.inf
        now = time.monotonic()
        return min(self._next_heartbeat - now, self._next_cancel_check - now)

    def renew_leases(self) -> None:
        """Extend the leases of running jobs; stop those taken over or cancelled."""
        now = time.monotonic()
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + self._lease_seconds / 3
        runs = self.runs()
        if not runs:
            return
        lost, cancel_requested = self._store.heartbeat(
            [run.claim for run in runs], lease_seconds=self._lease_seconds
        )
        for run in runs:
            if run.claim in lost:
                run.cancellation.set(CancelReason.LEASE_LOST)
            elif run.claim in cancel_requested:
                run.cancellation.set(CancelReason.REQUESTED)

    def check_cancel_requests(self) -> None:
        """Stop the running jobs someone asked to cancel (a read, every poll interval)."""
        now = time.monotonic()
        if now < self._next_cancel_check:
            return
        self._next_cancel_check = now + self._poll_interval
        with self._lock:
            runs = [run for run in self._runs.values() if not run.cancellation.is_set]
        if not runs:
            return
        requested = self._store.cancel_requested([run.claim for run in runs])
        for run in runs:
            if run.claim in requested:
                run.cancellation.set(CancelReason.REQUESTED)
