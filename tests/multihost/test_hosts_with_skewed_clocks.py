"""One host's clock is five minutes off: nothing that hosts compare may depend on it.

The skewed processes run with libfaketime (what ``faketime -f '+5m'`` sets); a time
namespace would not do, since it moves only the monotonic clocks, never the wall clock.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multihost.hosts import (
    LEASE_SECONDS,
    POLL_INTERVAL,
    HostProcess,
    Hosts,
    Session,
    process_id_of,
    wait_until,
)
from multihost.rows import crash_count

BOOKS_LIBRARY_ID = 1
COMICS_LIBRARY_ID = 2
SLOW_PACE = 0.25  # seconds per book file: a scan of about 10 s, long enough to be looked at
SLACK = 10.0  # seconds for a busy machine to schedule what should happen; not a target
SCAN_DEADLINE = 60.0  # seconds
AHEAD, BEHIND = "+5m", "-5m"


def _in_progress_by(session: Session, job_id: int, worker: HostProcess) -> bool:
    job = session.job(job_id)
    return job["status"] == "in_progress" and bool(
        process_id_of(worker).match(job.get("process_id", ""))
    )


def test_a_host_five_minutes_ahead_leaves_a_live_scan_alone(hosts: Hosts, db: sa.Engine) -> None:
    app = hosts.app(hosts.hosts["c"])
    runner = hosts.worker(hosts.hosts["a"], pace=SLOW_PACE)
    hosts.wait_ready()
    session = hosts.session(app)
    job_id = session.start_scan(BOOKS_LIBRARY_ID).json()["id"]
    wait_until(lambda: _in_progress_by(session, job_id, runner), timeout=SLACK, what="the claim")

    # The fast host's worker sees every lease as five minutes past its end.
    ahead = hosts.worker(hosts.hosts["b"], clock=AHEAD)
    hosts.wait_ready()
    done = wait_until(
        lambda: (job := session.job(job_id))["status"] not in ("pending", "in_progress") and job,
        timeout=SCAN_DEADLINE,
        what="the scan to end",
    )

    assert done["status"] == "completed"
    assert done["attempt"] == 1 and crash_count(db, job_id) == 0
    assert process_id_of(runner).match(done["process_id"])
    assert "lost its worker" not in ahead.log_text()


@pytest.mark.parametrize(
    ("dead_clock", "rescuer_clock"),
    [
        pytest.param(AHEAD, None, id="dead-host-ahead"),
        pytest.param(None, BEHIND, id="rescuer-behind"),
    ],
)
def test_a_dead_hosts_scan_is_rescued_in_time_whatever_the_clocks(
    hosts: Hosts, dead_clock: str | None, rescuer_clock: str | None
) -> None:
    app = hosts.app(hosts.hosts["c"])
    doomed = hosts.worker(hosts.hosts["a"], clock=dead_clock, pace=SLOW_PACE)
    hosts.wait_ready()
    session = hosts.session(app)
    job_id = session.start_scan(BOOKS_LIBRARY_ID).json()["id"]
    wait_until(lambda: _in_progress_by(session, job_id, doomed), timeout=SLACK, what="the claim")
    rescuer = hosts.worker(hosts.hosts["b"], clock=rescuer_clock, pace=SLOW_PACE)
    hosts.wait_ready()

    doomed.kill()

    # One lease after the dead worker's last heartbeat, by the database's clock.
    wait_until(
        lambda: _in_progress_by(session, job_id, rescuer),
        timeout=LEASE_SECONDS + POLL_INTERVAL + SLACK,
        what="the rescue",
    )


def test_the_newest_scan_is_listed_first_whatever_the_hosts_clocks(hosts: Hosts) -> None:
    apps = [hosts.app(hosts.hosts["a"]), hosts.app(hosts.hosts["b"], clock=BEHIND)]
    hosts.wait_ready()
    on_time, behind = (hosts.session(app) for app in apps)

    first = on_time.start_scan(BOOKS_LIBRARY_ID).json()
    second = behind.start_scan(COMICS_LIBRARY_ID).json()

    for session in (on_time, behind):
        listed = session.jobs(type="scan")
        assert [job["id"] for job in listed] == [second["id"], first["id"]]
    assert second["created_at"] >= first["created_at"]


def test_retention_by_a_host_five_minutes_ahead_keeps_recent_jobs(
    hosts: Hosts, db: sa.Engine
) -> None:
    app = hosts.app(hosts.hosts["c"])
    hosts.worker(hosts.hosts["a"])
    hosts.wait_ready()
    session = hosts.session(app)
    old = session.start_scan(COMICS_LIBRARY_ID).json()["id"]
    wait_until(
        lambda: session.job(old)["status"] == "completed", timeout=SCAN_DEADLINE, what="scan"
    )
    recent = session.start_scan(COMICS_LIBRARY_ID).json()["id"]
    wait_until(
        lambda: session.job(recent)["status"] == "completed", timeout=SCAN_DEADLINE, what="scan"
    )
    with db.begin() as connection:  # finished two days ago, by the database's clock
        connection.execute(
            sa.text(
                "UPDATE jobs SET created_at = now() - interval '2 days', "
                "updated_at = now() - interval '2 days', finished_at = now() - interval '2 days' "
                "WHERE id = :id"
            ),
            {"id": old},
        )

    # Keep finished jobs 0.003 days (about 4 minutes): less than the host's five minutes ahead.
    hosts.worker(hosts.hosts["b"], clock=AHEAD, SHISHO_JOB_RETENTION_DAYS="0.003")
    hosts.wait_ready()

    wait_until(
        lambda: session.client.get(f"/api/jobs/{old}").status_code == 404,
        timeout=SCAN_DEADLINE,
        what="the two-day-old job to be deleted",
    )
    assert session.job(recent)["status"] == "completed"
