"""The host's own tables: libraries, books, roles and users.

``libraries`` is the table the jobs schema points at (``jobs.library_id``), so
the host migrates first (see :mod:`library_host.migrate`).
"""

from __future__ import annotations

import sqlalchemy as sa

from shisho_jobs.schema import NAMING_CONVENTION, UTCDateTime

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

libraries = sa.Table(
    "libraries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("path", sa.Text, nullable=False, doc="Folder holding the library's files."),
    sa.Column(
        "watch",
        sa.String(8),
        nullable=False,
        server_default="events",
        doc="How workers notice changes: events, poll (network shares) or off (Library.watch).",
    ),
    sa.Column(
        "scan_interval_minutes",
        sa.Float,
        doc="Minutes between scheduled scans of this library; null: the global schedule only.",
    ),
    sa.CheckConstraint("watch IN ('events', 'poll', 'off')", name="watch_known"),
)

books = sa.Table(
    "books",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "library_id",
        sa.Integer,
        sa.ForeignKey("libraries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "path", sa.Text, nullable=False, doc="Relative to the library's folder, '/'-separated."
    ),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("scanned_at", UTCDateTime, nullable=False),
    # One row per file; also the index the scanner's "load every book of this
    # library" query and the library page's listing use.
    sa.UniqueConstraint("library_id", "path", name="uq_books_library_id_path"),
    sa.Index("ix_books_library_id_title", "library_id", "title"),
    # Covers the scanner's "every book of this library with its size and mtime"
    # query, so a rescan reads one index range instead of a row per book.
    sa.Index("ix_books_library_id_path_size_mtime_ns", "library_id", "path", "size", "mtime_ns"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("permissions", sa.Text, nullable=False, doc="Space-separated, e.g. 'jobs:read'."),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=False),
    sa.Column(
        "all_libraries",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        doc="Access to every library, present and future; else those in user_libraries.",
    ),
)

user_libraries = sa.Table(
    "user_libraries",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "library_id",
        sa.Integer,
        sa.ForeignKey("libraries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
