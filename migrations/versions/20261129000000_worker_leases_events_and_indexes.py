"""Worker leases and outcomes, the job_events outbox, per-scope counts, and indexes that never sort.

Revision ID: 20261129000000
Revises: 20260113000000
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shisho_jobs import scope_counts
from shisho_jobs.migrate import require_foreign_keys_off

revision: str = "20261129000000"
down_revision: str | Sequence[str] | None = "20260113000000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here, not imported: a revision must keep meaning what it meant
# when it was written, whatever later versions of the package say.
_ACTIVE = "status IN ('pending', 'in_progress')"


def _worker_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("crash_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


def upgrade() -> None:
    """Add worker columns, checks, job_events and the status indexes; replace the seed's index."""
    require_foreign_keys_off(op.get_bind())
    # Dropped before the SQLite table rebuild below, which would otherwise copy it.
    op.drop_index("ix_jobs_type_library_created", table_name="jobs")
    # SQLite rebuilds the table here; AUTOINCREMENT keeps ids from being reused.
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in _worker_columns():
            batch.add_column(column)
        batch.create_check_constraint(
            op.f("ck_jobs_progress_range"), "progress >= 0 AND progress <= 100"
        )
        batch.create_check_constraint(
            op.f("ck_jobs_status_known"),
            "status IN ('pending', 'in_progress', 'completed', 'failed')",
        )
    # Jobs that finished before this revision age from their last update.
    op.execute("UPDATE jobs SET finished_at = updated_at WHERE status IN ('completed', 'failed')")
    op.create_index(
        "ix_jobs_type_library_created_id", "jobs", ["type", "library_id", "created_at", "id"]
    )
    op.create_index(
        "ix_jobs_active_scope",
        "jobs",
        ["type", "library_id"],
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index(
        "ix_jobs_pending_queue",
        "jobs",
        ["created_at", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_jobs_running_lease",
        "jobs",
        ["lease_expires_at"],
        sqlite_where=sa.text("status = 'in_progress'"),
        postgresql_where=sa.text("status = 'in_progress'"),
    )
    op.create_index("ix_jobs_created", "jobs", ["created_at", "id"])
    op.create_index("ix_jobs_status_finished", "jobs", ["status", "finished_at"])
    op.create_index("ix_job_logs_job_id_id", "job_logs", ["job_id", "id"])

    op.create_table(
        "job_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("library_id", sa.Integer, nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("job_json", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_events_job_id_jobs", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_job_events_job_id", "job_events", ["job_id"])
    op.create_index("ix_job_events_created", "job_events", ["created_at"])

    # Per-scope job counts kept by triggers, so list totals never count the history.
    # Created after the SQLite rebuild of jobs above, which would drop its triggers.
    op.create_table(
        "job_scope_counts",
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("library_key", sa.Integer, nullable=False),
        sa.Column("jobs", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("type", "library_key", name="pk_job_scope_counts"),
    )
    op.execute(scope_counts.BACKFILL_V1)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in scope_counts.SQLITE_CREATE_V1 if sqlite else scope_counts.POSTGRESQL_CREATE_V1:
        op.execute(statement)


def downgrade() -> None:
    """Drop job_events, the new indexes, checks and worker columns; restore the seed's index."""
    require_foreign_keys_off(op.get_bind())
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in scope_counts.SQLITE_DROP_V1 if sqlite else scope_counts.POSTGRESQL_DROP_V1:
        op.execute(statement)
    op.drop_table("job_scope_counts")
    op.drop_index("ix_job_events_created", table_name="job_events")
    op.drop_index("ix_job_events_job_id", table_name="job_events")
    op.drop_table("job_events")
    op.drop_index("ix_job_logs_job_id_id", table_name="job_logs")
    for name in (
        "ix_jobs_status_finished",
        "ix_jobs_created",
        "ix_jobs_running_lease",
        "ix_jobs_pending_queue",
        "ix_jobs_active_scope",
        "ix_jobs_type_library_created_id",
    ):
        op.drop_index(name, table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_status_known"), type_="check")
        batch.drop_constraint(op.f("ck_jobs_progress_range"), type_="check")
        for column in reversed(_worker_columns()):
            batch.drop_column(column.name)
    op.create_index(
        "ix_jobs_type_library_created",
        "jobs",
        ["type", "library_id", sa.text("created_at DESC")],
    )
