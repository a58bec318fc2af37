"""How each library is watched for changes, and its own scan schedule.

Revision ID: host_0002
Revises: host_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "host_0002"
down_revision = "host_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add libraries.watch (events, poll or off) and libraries.scan_interval_minutes."""
    with op.batch_alter_table("libraries") as batch:
        batch.add_column(sa.Column("watch", sa.String(8), nullable=False, server_default="events"))
        batch.add_column(sa.Column("scan_interval_minutes", sa.Float))
        batch.create_check_constraint("watch_known", "watch IN ('events', 'poll', 'off')")


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("libraries") as batch:
        batch.drop_constraint("ck_libraries_watch_known", type_="check")
        batch.drop_column("scan_interval_minutes")
        batch.drop_column("watch")
