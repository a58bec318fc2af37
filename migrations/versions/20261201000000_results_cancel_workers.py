"""Job results, triggers, warning counts, cancel, stall and retry columns; the workers table.

Revision ID: 20261201000000
Revises: 20261129000000
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shisho_jobs import scope_counts, warning_counts
from shisho_jobs.migrate import require_foreign_keys_off

revision: str = "20261201000000"
down_revision: str | Sequence[str] | None = "20261129000000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here, not imported: a revision must keep meaning what it meant
# when it was written, whatever later versions of the package say.
_STATUS_BEFORE = "status IN ('pending', 'in_progress', 'completed', 'failed')"
_STATUS_AFTER = "status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')"
_TRIGGER = "trigger IN ('manual', 'watch', 'schedule', 'retry')"
_RETRY_DUE = "retry_at IS NOT NULL"


def _job_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("trigger", sa.String(16), nullable=False, server_default="manual"),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("warnings", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stalled_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting", sa.String(255), nullable=True),
        sa.Column("retry_of", sa.Integer, nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _drop_count_triggers(sqlite: bool) -> None:
    # SQLite rebuilds ``jobs`` below, and a rebuild loses the table's triggers:
    # they are dropped first and made again afterwards (PostgreSQL alters in place).
    if sqlite:
        for statement in scope_counts.SQLITE_DROP_V1:
            op.execute(statement)


def _create_count_triggers(sqlite: bool) -> None:
    if sqlite:
        for statement in scope_counts.SQLITE_CREATE_V1:
            op.execute(statement)


def upgrade() -> None:
    """Add the jobs columns and checks of results, cancel, stall, retry; count warnings; workers."""
    require_foreign_keys_off(op.get_bind())
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_count_triggers(sqlite)
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in _job_columns():
            batch.add_column(column)
        batch.drop_constraint(op.f("ck_jobs_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_status_known"), _STATUS_AFTER)
        batch.create_check_constraint(op.f("ck_jobs_trigger_known"), _TRIGGER)
    _create_count_triggers(sqlite)
    op.execute(warning_counts.BACKFILL_V1)
    create = warning_counts.SQLITE_CREATE_V1 if sqlite else warning_counts.POSTGRESQL_CREATE_V1
    for statement in create:
        op.execute(statement)
    # A job already running counts as having moved when it was claimed.
    op.execute("UPDATE jobs SET last_progress_at = started_at WHERE status = 'in_progress'")
    op.create_index(
        "ix_jobs_retry_due",
        "jobs",
        ["retry_at"],
        sqlite_where=sa.text(_RETRY_DUE),
        postgresql_where=sa.text(_RETRY_DUE),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("concurrency", sa.Integer, nullable=False),
        sa.Column("job_types", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
    )
    op.create_index("ix_workers_expires_at", "workers", ["expires_at"])


def downgrade() -> None:
    """Drop workers and the new jobs columns; cancelled jobs become failed ("Cancelled")."""
    require_foreign_keys_off(op.get_bind())
    sqlite = op.get_bind().dialect.name == "sqlite"
    drop = warning_counts.SQLITE_DROP_V1 if sqlite else warning_counts.POSTGRESQL_DROP_V1
    for statement in drop:
        op.execute(statement)
    op.drop_index("ix_workers_expires_at", table_name="workers")
    op.drop_table("workers")
    op.drop_index("ix_jobs_retry_due", table_name="jobs")
    # Before this revision a cancelled job ended failed with the error "Cancelled".
    op.execute(
        "UPDATE jobs SET status = 'failed', error = coalesce(error, 'Cancelled')"
        " WHERE status = 'cancelled'"
    )
    _drop_count_triggers(sqlite)
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_jobs_trigger_known"), type_="check")
        batch.drop_constraint(op.f("ck_jobs_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_status_known"), _STATUS_BEFORE)
        for column in reversed(_job_columns()):
            batch.drop_column(column.name)
    _create_count_triggers(sqlite)
