"""What the tests read straight from the database: bookkeeping the API does not show."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def crash_count(db: sa.Engine, job_id: int) -> int:
    """How many times the job's worker was lost (``jobs.crash_count``)."""
    with db.connect() as connection:
        count: int = connection.execute(
            sa.text("SELECT crash_count FROM jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
        return count


def book_count(db: sa.Engine, library_id: int) -> int:
    """Books catalogued in a library."""
    with db.connect() as connection:
        count: int = connection.execute(
            sa.text("SELECT count(*) FROM books WHERE library_id = :id"), {"id": library_id}
        ).scalar_one()
        return count


def job_events(db: sa.Engine, job_id: int) -> list[dict[str, Any]]:
    """The job as each of its outbox events showed it, oldest first."""
    with db.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT job_json::json FROM job_events WHERE job_id = :id ORDER BY id"),
            {"id": job_id},
        ).scalars()
        return list(rows)
