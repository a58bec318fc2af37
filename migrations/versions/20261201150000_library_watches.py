"""The library_watches table: how each live worker watches each library's folder.

Revision ID: 20261201150000
Revises: 20261201100000
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201150000"
down_revision: str | Sequence[str] | None = "20261201100000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create library_watches (worker, library, health as JSON), gone with its worker."""
    op.create_table(
        "library_watches",
        sa.Column("worker_id", sa.String(255), nullable=False),
        sa.Column("library_id", sa.Integer, nullable=False),
        sa.Column("health", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name="fk_library_watches_worker_id_workers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "library_id", name="pk_library_watches"),
    )


def downgrade() -> None:
    """Drop library_watches."""
    op.drop_table("library_watches")
