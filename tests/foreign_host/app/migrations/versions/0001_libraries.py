"""The host's libraries table.

Revision ID: 0001_libraries
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_libraries"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``libraries``."""
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop ``libraries``."""
    op.drop_table("libraries")
