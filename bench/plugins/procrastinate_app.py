"""Procrastinate app with a no-op task, on ``$BENCH_PROCRASTINATE_DSN`` (for bench/worker.py)."""

from __future__ import annotations

import os

import procrastinate

app = procrastinate.App(
    # No default: an empty DSN would silently use libpq's default database.
    connector=procrastinate.PsycopgConnector(conninfo=os.environ["BENCH_PROCRASTINATE_DSN"])
)


@app.task(name="noop")
def noop() -> None:
    """Do nothing."""
