"""Huey (SQLite storage) with a no-op task, on ``$BENCH_HUEY_FILE`` (for bench/worker.py)."""

from __future__ import annotations

import os

from huey import SqliteHuey

huey = SqliteHuey(filename=os.environ["BENCH_HUEY_FILE"])


@huey.task()
def noop() -> None:
    """Do nothing."""
