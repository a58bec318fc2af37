"""Add job_logs.library_id: which library a log line is about (issue 13, the visibility rule).

Revision ID: 20261201200000
Revises: 20261201150000
Create Date: 2026-12-01 20:00:00

A global job's lines about one library go only to users with access to that library.
NULL: about no library in particular (every reader of the job gets it); 0: about every
library at once (only readers of every library get it). Lines written before this
revision stay NULL. No foreign key: a line about a deleted library goes with its job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

from shisho_jobs import warning_counts

revision: str = "20261201200000"
down_revision: str | Sequence[str] | None = "20261201150000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable job_logs.library_id column."""
    with _warning_trigger_kept(), op.batch_alter_table("job_logs") as batch:
        batch.add_column(sa.Column("library_id", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop job_logs.library_id (lines keep their text, lose which library they were about)."""
    with _warning_trigger_kept(), op.batch_alter_table("job_logs") as batch:
        batch.drop_column("library_id")


@contextlib.contextmanager
def _warning_trigger_kept() -> Iterator[None]:
    # SQLite may rebuild job_logs (batch mode), and a rebuild loses the table's triggers:
    # revision 20261201000000's warnings trigger is dropped first and made again after.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in warning_counts.SQLITE_DROP_V1:
            op.execute(statement)
    yield
    if sqlite:
        for statement in warning_counts.SQLITE_CREATE_V1:
            op.execute(statement)
