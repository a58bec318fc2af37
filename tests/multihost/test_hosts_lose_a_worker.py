"""A host's worker dies or drops off the network mid-scan: another host's worker takes over.

Both hosts run a worker; whichever claims the scan is the one that fails. The scan is
the reference host's real scanner, paced so that it is still running when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from multihost.hosts import (
    LEASE_SECONDS,
    POLL_INTERVAL,
    HostProcess,
    Hosts,
    Libraries,
    Session,
    process_id_of,
    wait_until,
)
from multihost.network import Network
from multihost.rows import book_count, crash_count, job_events

BOOKS_LIBRARY_ID = 1
PACE = 0.1  # seconds per book file: a scan of about 4 s
SLACK = 10.0  # seconds for a busy machine to schedule what should happen; not a target
SCAN_DEADLINE = 60.0  # seconds for a whole scan, rescues included


def _claimed_by(session: Session, job_id: int, workers: list[HostProcess]) -> HostProcess | None:
    job = session.job(job_id)
    if job["status"] != "in_progress" or job["progress"] == 0:
        return None
    return next(w for w in workers if process_id_of(w).match(job["process_id"]))


@dataclass(frozen=True)
class ScanUnderWay:
    """A scan of Books run by one of two hosts' workers, watched through an app on a third."""

    session: Session
    job_id: int
    runner: HostProcess
    """The worker that claimed the scan (the one the test breaks)."""
    other: HostProcess
    """The other host's worker."""

    def job(self) -> dict[str, Any]:
        """The scan as the API shows it now."""
        return self.session.job(self.job_id)

    def ended(self) -> dict[str, Any] | None:
        """The scan once it is neither pending nor in progress."""
        job = self.job()
        return job if job["status"] not in ("pending", "in_progress") else None


def _scan_under_way(network: Network, hosts: Hosts) -> ScanUnderWay:
    """Workers on hosts a and b, an app on c, and a scan of Books that one of them runs."""
    app = hosts.app(network.hosts["c"])
    workers = [hosts.worker(network.hosts[name], pace=PACE) for name in ("a", "b")]
    hosts.wait_ready()
    session = hosts.session(app)
    created = session.start_scan(BOOKS_LIBRARY_ID)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    runner = wait_until(
        lambda: _claimed_by(session, job_id, workers), timeout=SCAN_DEADLINE, what="the scan"
    )
    other = next(worker for worker in workers if worker is not runner)
    return ScanUnderWay(session, job_id, runner, other)


def test_a_killed_hosts_scan_is_rescued_by_another_host(
    network: Network, hosts: Hosts, db: sa.Engine, libraries: Libraries
) -> None:
    scan = _scan_under_way(network, hosts)

    scan.runner.kill()

    def taken_over() -> bool:
        job = scan.job()
        return job["attempt"] == 2 and bool(process_id_of(scan.other).match(job["process_id"]))

    wait_until(taken_over, timeout=LEASE_SECONDS + POLL_INTERVAL + SLACK, what="the rescue")
    done = wait_until(scan.ended, timeout=SCAN_DEADLINE, what="the rescued scan to end")
    assert done["status"] == "completed"
    assert crash_count(db, scan.job_id) == 1
    warnings = [
        line["message"] for line in scan.session.logs(scan.job_id) if line["level"] == "warn"
    ]
    assert any("stopped answering; re-queued (crash 1 of 3)" in m for m in warnings)
    assert book_count(db, BOOKS_LIBRARY_ID) == libraries.books_files


def test_a_host_cut_off_mid_scan_loses_it_and_its_late_writes_are_refused(
    network: Network, hosts: Hosts, db: sa.Engine, libraries: Libraries
) -> None:
    scan = _scan_under_way(network, hosts)
    cut, survivor = scan.runner, scan.other

    cut.host.cut_off()
    try:

        def taken_over() -> bool:
            job = scan.job()
            return (
                job["status"] == "in_progress"
                and job["attempt"] == 2
                and bool(process_id_of(survivor).match(job["process_id"]))
            )

        wait_until(taken_over, timeout=LEASE_SECONDS + POLL_INTERVAL + SLACK, what="the rescue")
    finally:
        # Back while the survivor still scans: the old run's writes arrive now.
        cut.host.reconnect()

    wait_until(
        lambda: "was taken over" in cut.log_text(),
        timeout=SCAN_DEADLINE,
        what="the cut-off worker to give the scan up",
    )
    done = wait_until(scan.ended, timeout=SCAN_DEADLINE, what="the scan to end")
    assert done["status"] == "completed" and done["attempt"] == 2
    assert process_id_of(survivor).match(done["process_id"])
    assert cut.alive(), "losing a job stops that run, not the worker"
    # Once the job was re-queued, every change the streams saw is the survivor's.
    events = job_events(db, scan.job_id)
    requeued = next(
        i for i, job in enumerate(events) if job.get("attempt") == 1 and job["status"] == "pending"
    )
    assert all(job["attempt"] == 2 for job in events[requeued + 1 :]), events
    messages = [line["message"] for line in scan.session.logs(scan.job_id)]
    assert not any("Scan stopped before the end" in m for m in messages), messages
    assert book_count(db, BOOKS_LIBRARY_ID) == libraries.books_files
