"""``shisho-jobs worker`` processes: killed, stopped, and draining a queue together.

Each worker is a real ``shisho-jobs worker --plugin shisho_test_host`` process
with a 1 s lease and a 0.2 s poll, on a real SQLite file and a real PostgreSQL.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import shisho_test_host
import sqlalchemy as sa
from worker_support import FINISHED, event_statuses, row_of, wait_for_status

from polling import wait_until
from shisho_jobs import Database, JobService, JobStatus, ListJobsOptions, get_plugin_manager

LEASE_SECONDS = 1.0
POLL_INTERVAL = 0.2
# Starting a Python process and being scheduled on a busy machine: slack, not a target.
PROCESS_SLACK = 8.0  # seconds
SHISHO_JOBS = str(Path(sys.executable).with_name("shisho-jobs"))
HERE = Path(__file__).resolve().parent


class WorkerProcesses:
    """Starts ``shisho-jobs worker`` processes for one test and reaps them afterwards."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.records = tmp_path / "records"
        self.records.mkdir()
        self.gate = tmp_path / "gate"
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *, lease_seconds: float = LEASE_SECONDS) -> subprocess.Popen[bytes]:
        """A new worker process, once it is running its loop."""
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
            SHISHO_DATA_DIR=str(self.tmp_path),
            SHISHO_WORKER_LEASE_SECONDS=str(lease_seconds),
            SHISHO_WORKER_POLL_INTERVAL=str(POLL_INTERVAL),
            SHISHO_WORKER_GRACE_SECONDS="10",
            SHISHO_TEST_RECORD_DIR=str(self.records),
            SHISHO_TEST_GATE=str(self.gate),
        )
        log = self.tmp_path / f"worker-{len(self.started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    SHISHO_JOBS,
                    "worker",
                    "--database-url",
                    self.database_url,
                    "--plugin",
                    "shisho_test_host",
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        wait_until(
            lambda: "started (concurrency" in log.read_text() or process.poll() is not None,
            timeout=PROCESS_SLACK * 2,
            what="the worker process to start",
        )
        assert process.poll() is None, log.read_text()
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        """SIGTERM, then the exit status."""
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=PROCESS_SLACK * 2)

    def reap(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


def _without_commit_flush(url: sa.URL) -> sa.URL:
    # These tests are about who runs what, not about surviving a power cut: on
    # PostgreSQL, commits that skip the WAL flush keep 3,000 commits within seconds.
    if url.get_backend_name() != "postgresql":
        return url
    options = url.query.get("options", "")
    assert isinstance(options, str)
    return url.update_query_dict({"options": f"{options} -csynchronous_commit=off".strip()})


@pytest.fixture
def fast_url(database: Database) -> sa.URL:
    return _without_commit_flush(database.url)


@pytest.fixture
def processes(fast_url: sa.URL, tmp_path: Path) -> Iterator[WorkerProcesses]:
    workers = WorkerProcesses(fast_url.render_as_string(hide_password=False), tmp_path)
    try:
        yield workers
    finally:
        workers.reap()


@pytest.fixture
def jobs(fast_url: sa.URL) -> Iterator[JobService]:
    database = Database(fast_url)
    manager = get_plugin_manager(load_entry_points=False, plugins=[shisho_test_host])
    try:
        yield JobService(database, plugin_manager=manager)
    finally:
        database.dispose()


def _scan_started(processes: WorkerProcesses, job_id: int) -> bool:
    return f"scan:{job_id}:1" in shisho_test_host.read_records(processes.records)


def test_a_scan_whose_worker_is_killed_is_rerun_by_another_worker(
    database: Database, jobs: JobService, processes: WorkerProcesses
) -> None:
    job = jobs.create_job("scan", library_id=1)
    first = processes.start()
    wait_until(lambda: _scan_started(processes, job.id), timeout=20, what="the scan to start")
    second = processes.start()

    first.kill()  # SIGKILL: no chance to clean up
    first.wait()
    processes.gate.touch()
    done = wait_for_status(
        jobs, job.id, FINISHED, timeout=LEASE_SECONDS + POLL_INTERVAL + PROCESS_SLACK
    )

    assert done.status == JobStatus.COMPLETED
    assert done.attempt == 2
    assert done.process_id is not None and f":{second.pid}:" in done.process_id
    assert row_of(database, job.id).crash_count == 1
    assert "failed" not in [status for _, status in event_statuses(database, job.id)]
    assert jobs.list_jobs(ListJobsOptions(statuses=["in_progress"])) == []
    warnings = [log.message for log in jobs.list_job_logs(job.id, levels=["warn"])]
    assert any("stopped answering; re-queued (crash 1 of 3)" in m for m in warnings)
    assert processes.stop(second) == 0


def test_a_scan_interrupted_by_sigterm_goes_back_to_pending_and_completes_later(
    database: Database, jobs: JobService, processes: WorkerProcesses
) -> None:
    job = jobs.create_job("scan", library_id=1)
    first = processes.start()
    wait_until(lambda: _scan_started(processes, job.id), timeout=20, what="the scan to start")

    assert processes.stop(first) == 0

    interrupted = jobs.retrieve_job(job.id)
    assert interrupted.status == JobStatus.PENDING
    assert "re-queued" in jobs.list_job_logs(job.id)[-1].message
    processes.gate.touch()
    second = processes.start()
    done = wait_for_status(jobs, job.id, FINISHED, timeout=20)
    assert done.status == JobStatus.COMPLETED
    assert done.attempt == 2
    assert row_of(database, job.id).crash_count == 0
    assert "failed" not in [status for _, status in event_statuses(database, job.id)]
    assert processes.stop(second) == 0


JOB_COUNT = 1000
DRAIN_LEASE_SECONDS = 15.0


def test_two_worker_processes_run_each_of_1000_jobs_exactly_once(
    database: Database, jobs: JobService, processes: WorkerProcesses
) -> None:
    # Nobody dies here: a lease long enough that a heartbeat delayed by a loaded
    # machine is not mistaken for a lost worker (that case has its own tests).
    workers = [processes.start(lease_seconds=DRAIN_LEASE_SECONDS) for _ in range(2)]

    created = [jobs.create_job(shisho_test_host.NOOP_TYPE).id for _ in range(JOB_COUNT)]

    def all_completed() -> bool:
        options = ListJobsOptions(statuses=["completed"], limit=1)
        return jobs.list_jobs_with_total(options)[1] == JOB_COUNT

    wait_until(all_completed, timeout=90, what=f"{JOB_COUNT} jobs to complete")
    runs = collections.Counter(shisho_test_host.read_records(processes.records))
    assert runs == collections.Counter(f"noop:{job_id}" for job_id in created)
    per_process = [len(path.read_text().split()) for path in processes.records.glob("*.log")]
    assert len(per_process) == 2 and min(per_process) > 0  # both workers took part
    with database.read() as session:
        attempts = session.execute(sa.text("SELECT DISTINCT attempt FROM jobs")).scalars().all()
    assert attempts == [1]
    assert [processes.stop(worker) for worker in workers] == [0, 0]
