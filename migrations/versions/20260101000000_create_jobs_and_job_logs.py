"""Create jobs and job_logs as they were before library scans (Shisho's original tables).

Revision ID: 20260101000000
Revises:
Create Date: 2026-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20260101000000"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("shisho_jobs",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the pre-feature jobs and job_logs tables."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("process_id", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_table(
        "job_logs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("plugin", sa.String(255), nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("stack_trace", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_logs"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_logs_job_id_jobs", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    """Drop job_logs and jobs."""
    op.drop_table("job_logs")
    op.drop_table("jobs")
