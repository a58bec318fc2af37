"""Add jobs.library_id (the seed's revision): library scans; NULL means a global scan.

Revision ID: 20260113000000
Revises: 20260101000000
Create Date: 2026-01-13 00:00:00

Unlike the seed, the foreign key deletes a library's jobs with the library
(ON DELETE CASCADE), and the downgrade really drops the column on SQLite too
(batch mode rebuilds the table).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shisho_jobs.migrate import require_foreign_keys_off, require_libraries_table

revision: str = "20260113000000"
down_revision: str | Sequence[str] | None = "20260101000000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add library_id referencing the host's libraries(id), and the seed's index."""
    require_libraries_table(op.get_bind())
    require_foreign_keys_off(op.get_bind())
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("library_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            op.f("fk_jobs_library_id_libraries"),
            "libraries",
            ["library_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_jobs_type_library_created",
        "jobs",
        ["type", "library_id", sa.text("created_at DESC")],
    )


def downgrade() -> None:
    """Drop the seed's index and jobs.library_id."""
    require_foreign_keys_off(op.get_bind())
    op.drop_index("ix_jobs_type_library_created", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("fk_jobs_library_id_libraries"), type_="foreignkey")
        batch.drop_column("library_id")
