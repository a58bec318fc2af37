"""Newest first and the queue's order by id, not by a clock: indexes that say so.

Revision ID: 20261201100000
Revises: 20261201000000
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201100000"
down_revision: str | Sequence[str] | None = "20261201000000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here, not imported: a revision keeps meaning what it meant when written.
_PENDING = "status = 'pending'"


def upgrade() -> None:
    """Index (type, library_id, id) and the pending queue by id; drop the created_at indexes."""
    op.drop_index("ix_jobs_type_library_created_id", table_name="jobs")
    op.create_index("ix_jobs_type_library_id", "jobs", ["type", "library_id", "id"])
    op.drop_index("ix_jobs_pending_queue", table_name="jobs")
    _create_pending_queue(["id"])
    # The unfiltered list is read newest first from the primary key now.
    op.drop_index("ix_jobs_created", table_name="jobs")


def downgrade() -> None:
    """Put back the created_at indexes of revision 20261129000000."""
    op.create_index("ix_jobs_created", "jobs", ["created_at", "id"])
    op.drop_index("ix_jobs_pending_queue", table_name="jobs")
    _create_pending_queue(["created_at", "id"])
    op.drop_index("ix_jobs_type_library_id", table_name="jobs")
    op.create_index(
        "ix_jobs_type_library_created_id", "jobs", ["type", "library_id", "created_at", "id"]
    )


def _create_pending_queue(columns: list[str]) -> None:
    op.create_index(
        "ix_jobs_pending_queue",
        "jobs",
        columns,
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )
