"""Longer library names: on SQLite a batch rebuild of ``libraries``.

Revision ID: 0002_longer_library_names
Revises: 0001_libraries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_longer_library_names"
down_revision = "0001_libraries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Allow library names of 400 characters (SQLite copies the table and drops the old one)."""
    with op.batch_alter_table("libraries", recreate="always") as batch:
        batch.alter_column("name", type_=sa.String(400), existing_nullable=False)


def downgrade() -> None:
    """Back to 200 characters."""
    with op.batch_alter_table("libraries", recreate="always") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_nullable=False)
