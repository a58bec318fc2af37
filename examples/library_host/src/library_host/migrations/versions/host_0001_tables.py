"""The host's tables: libraries, books, roles, users and their library access.

Revision ID: host_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shisho_jobs.schema import UTCDateTime

revision = "host_0001"
down_revision = None
branch_labels = ("library_host",)
depends_on = None


def upgrade() -> None:
    """Create the libraries, books, roles, users and user_libraries tables."""
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_libraries"),
        sa.UniqueConstraint("name", name="uq_libraries_name"),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("library_id", sa.Integer, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("scanned_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_books"),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name="fk_books_library_id_libraries",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("library_id", "path", name="uq_books_library_id_path"),
    )
    op.create_index("ix_books_library_id_title", "books", ["library_id", "title"])
    op.create_index(
        "ix_books_library_id_path_size_mtime_ns",
        "books",
        ["library_id", "path", "size", "mtime_ns"],
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("permissions", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("name", name="uq_roles_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role_id", sa.Integer, nullable=False),
        sa.Column("all_libraries", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], name="fk_users_role_id_roles"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "user_libraries",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("library_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "library_id", name="pk_user_libraries"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_libraries_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name="fk_user_libraries_library_id_libraries",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    """Drop the host's tables (the jobs tables must be gone first: they reference libraries)."""
    op.drop_table("user_libraries")
    op.drop_table("users")
    op.drop_table("roles")
    op.drop_index("ix_books_library_id_path_size_mtime_ns", table_name="books")
    op.drop_index("ix_books_library_id_title", table_name="books")
    op.drop_table("books")
    op.drop_table("libraries")
