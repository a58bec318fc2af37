"""Several hosts on one PostgreSQL: pickup latency and finish-to-event across hosts, p50/p95.

Three hosts as network namespaces on a bridge (the harness of tests/multihost, needs
root), PostgreSQL of its own on the bridge with fsync on (as a real server):

- host a serves the reference app; a signed-in user there starts a scan of Comics
  (``POST /api/jobs``);
- host b runs ``shisho-jobs worker``, which is woken by LISTEN/NOTIFY and runs it;
- host c serves the reference app too; a user there has the event stream open.

Pickup latency: the job's ``started_at`` minus its ``created_at`` (enqueue on host a
to claim on host b). Finish to event: when host c's stream delivered the job's final
event, minus the job's ``finished_at`` (host b's commit reaching a reader on host c).
All three hosts share this machine's clock, so the host-side figures compare.

Prints the figures and writes bench/results/multihost.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from multihost import network as netns  # noqa: E402  (the suite's harness, found above)
from multihost.event_stream import EventLog, StreamEvent, follow  # noqa: E402
from multihost.hosts import Hosts, wait_until  # noqa: E402
from multihost.network import Network  # noqa: E402
from multihost.private_postgres import PrivateCluster  # noqa: E402
from multihost.template import copy_template, prepare_template  # noqa: E402

RESULTS = HERE / "results" / "multihost.json"
COMICS_LIBRARY_ID = 2
PG_PORT = 5434
SAMPLE_DEADLINE = 30.0  # seconds one scan may take end to end
SPREAD = 0.2  # seconds; starts come at random moments up to this far apart


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {
        "p50_ms": round(at(0.5) * 1000, 1),
        "p95_ms": round(at(0.95) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
        "samples": len(values),
    }


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def measure(hosts: Hosts, samples: int) -> dict[str, Any]:
    """Start ``samples`` scans on host a; see them run on b and end on c's stream."""
    app_a = hosts.app(hosts.hosts["a"])
    app_c = hosts.app(hosts.hosts["c"])
    hosts.worker(hosts.hosts["b"])
    hosts.wait_ready()
    starter, watcher = hosts.session(app_a), hosts.session(app_c)
    received = EventLog()
    finals: dict[int, StreamEvent] = {}
    seen = threading.Condition()

    def record(event: StreamEvent) -> bool:
        if event.job["status"] in ("completed", "failed"):
            with seen:
                finals[event.job["id"]] = event
                seen.notify_all()
        return False  # follow for as long as the benchmark runs

    def listen() -> None:
        # Ends when the hosts stop under it: that is how the benchmark ends it.
        with contextlib.suppress(Exception):
            follow(watcher, received, record, timeout=samples * SAMPLE_DEADLINE)

    stream = threading.Thread(target=listen, daemon=True)
    stream.start()
    wait_until(lambda: received.connections > 0, timeout=SAMPLE_DEADLINE, what="the stream")
    pickups: list[float] = []
    finish_to_event: list[float] = []
    for _ in range(samples):
        time.sleep(random.uniform(0, SPREAD))
        answer = starter.start_scan(COMICS_LIBRARY_ID)
        assert answer.status_code == 201, answer.text
        job_id = answer.json()["id"]
        with seen:
            if not seen.wait_for(lambda job_id=job_id: job_id in finals, SAMPLE_DEADLINE):
                raise SystemExit(f"job {job_id} did not finish within {SAMPLE_DEADLINE} s")
        job = starter.job(job_id)
        pickups.append(_seconds(job["started_at"]) - _seconds(job["created_at"]))
        finish_to_event.append(finals[job_id].received_at - _seconds(job["finished_at"]))
    return {
        "pickup_a_to_b": _percentiles(pickups),
        "finish_on_b_to_event_on_c": _percentiles(finish_to_event),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="scans to time (default 40)")
    args = parser.parse_args()
    reason = netns.why_unavailable()
    if reason is not None:
        print(f"bench/multihost.py skipped: {reason}")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="shisho-bench-multihost-"))
    network = Network.create()
    try:
        subnet = f"{network.gateway.rsplit('.', 1)[0]}.0/24"
        cluster = PrivateCluster.create(
            address=network.gateway, port=PG_PORT, subnet=subnet, durable=True
        )
        try:
            prepare_template(cluster, folder / "shared")
            url = copy_template(cluster, "bench")
            hosts = Hosts(hosts=network.hosts, database_url=url, folder=folder)
            try:
                figures = measure(hosts, args.samples)
            finally:
                hosts.stop_all()
        finally:
            cluster.remove()
    finally:
        network.remove()
    results = {
        "machine": {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)},
        **figures,
        "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name in ("pickup_a_to_b", "finish_on_b_to_event_on_c"):
        print(f"{name}: p50 {figures[name]['p50_ms']} ms, p95 {figures[name]['p95_ms']} ms")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
