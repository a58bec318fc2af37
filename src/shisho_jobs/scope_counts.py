"""Job counts per (type, library), kept by database triggers, so a list's total costs nothing.

``GET /api/jobs?type=scan&library_id_or_global=X`` answers with a ``total``.
Counting it from the index reads every job of the library and every global job
(tens of thousands of index entries at a million jobs, milliseconds on each
request). ``job_scope_counts`` holds one row per (type, library) instead,
``library_key`` 0 standing for global jobs. Triggers on ``jobs`` keep it exact
for every insert and delete, whoever runs it: the service, the worker, a
retention clean-up, or the cascade from a deleted library.

Status changes do not touch the counts (a worker claiming or finishing a job
never waits for them); totals filtered by status are counted from the index.

The DDL is versioned: a revision that installed ``*_V1`` keeps meaning it, and
a change to the triggers comes with a new constant and a new revision.
"""

from __future__ import annotations

from typing import Final

GLOBAL_LIBRARY_KEY: Final = 0
"""``library_key`` of global jobs (``library_id IS NULL``); real ids start at 1."""

_SQLITE_UPSERT = """
    INSERT INTO job_scope_counts (type, library_key, jobs)
    VALUES (NEW.type, coalesce(NEW.library_id, 0), 1)
    ON CONFLICT (type, library_key) DO UPDATE SET jobs = jobs + 1;"""
_SQLITE_DECREMENT = """
    UPDATE job_scope_counts SET jobs = jobs - 1
    WHERE type = OLD.type AND library_key = coalesce(OLD.library_id, 0);"""

SQLITE_CREATE_V1: Final[tuple[str, ...]] = (
    f"CREATE TRIGGER trg_jobs_count_insert AFTER INSERT ON jobs BEGIN {_SQLITE_UPSERT} END",
    f"CREATE TRIGGER trg_jobs_count_delete AFTER DELETE ON jobs BEGIN {_SQLITE_DECREMENT} END",
    "CREATE TRIGGER trg_jobs_count_move AFTER UPDATE OF type, library_id ON jobs"
    " WHEN OLD.type IS NOT NEW.type OR OLD.library_id IS NOT NEW.library_id"
    f" BEGIN {_SQLITE_DECREMENT} {_SQLITE_UPSERT} END",
)
SQLITE_DROP_V1: Final[tuple[str, ...]] = (
    "DROP TRIGGER IF EXISTS trg_jobs_count_move",
    "DROP TRIGGER IF EXISTS trg_jobs_count_delete",
    "DROP TRIGGER IF EXISTS trg_jobs_count_insert",
)

# PostgreSQL: statement-level triggers over transition tables. A row-level
# trigger would update one counter row once per job, and in a single
# transaction (a bulk load, a retention clean-up) every update adds a row
# version that the next one has to walk past: quadratic. Per statement, each
# touched counter is updated once.
_PG_ADD = """
    INSERT INTO job_scope_counts (type, library_key, jobs)
    SELECT type, coalesce(library_id, 0), count(*) FROM {rows} GROUP BY 1, 2
    ON CONFLICT (type, library_key) DO UPDATE SET jobs = job_scope_counts.jobs + EXCLUDED.jobs;"""
_PG_SUBTRACT = """
    UPDATE job_scope_counts AS counted SET jobs = counted.jobs - gone.jobs
    FROM (SELECT type, coalesce(library_id, 0) AS library_key, count(*) AS jobs
          FROM {rows} GROUP BY 1, 2) AS gone
    WHERE counted.type = gone.type AND counted.library_key = gone.library_key;"""

POSTGRESQL_CREATE_V1: Final[tuple[str, ...]] = (
    "CREATE FUNCTION shisho_jobs_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" BEGIN {_PG_ADD.format(rows='inserted_jobs')} RETURN NULL; END $$",
    "CREATE FUNCTION shisho_jobs_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" BEGIN {_PG_SUBTRACT.format(rows='deleted_jobs')} RETURN NULL; END $$",
    # Moving a job to another type or library never happens in bulk: row level is fine,
    # and PostgreSQL allows no transition tables on an UPDATE OF trigger anyway.
    "CREATE FUNCTION shisho_jobs_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " UPDATE job_scope_counts SET jobs = jobs - 1"
    " WHERE type = OLD.type AND library_key = coalesce(OLD.library_id, 0);"
    " INSERT INTO job_scope_counts (type, library_key, jobs)"
    " VALUES (NEW.type, coalesce(NEW.library_id, 0), 1)"
    " ON CONFLICT (type, library_key) DO UPDATE SET jobs = job_scope_counts.jobs + 1;"
    " RETURN NULL; END $$",
    "CREATE TRIGGER trg_jobs_count_insert AFTER INSERT ON jobs"
    " REFERENCING NEW TABLE AS inserted_jobs FOR EACH STATEMENT"
    " EXECUTE FUNCTION shisho_jobs_count_inserted()",
    "CREATE TRIGGER trg_jobs_count_delete AFTER DELETE ON jobs"
    " REFERENCING OLD TABLE AS deleted_jobs FOR EACH STATEMENT"
    " EXECUTE FUNCTION shisho_jobs_count_deleted()",
    "CREATE TRIGGER trg_jobs_count_move AFTER UPDATE OF type, library_id ON jobs FOR EACH ROW"
    " WHEN (OLD.type IS DISTINCT FROM NEW.type OR OLD.library_id IS DISTINCT FROM NEW.library_id)"
    " EXECUTE FUNCTION shisho_jobs_count_moved()",
)
POSTGRESQL_DROP_V1: Final[tuple[str, ...]] = (
    "DROP TRIGGER IF EXISTS trg_jobs_count_move ON jobs",
    "DROP TRIGGER IF EXISTS trg_jobs_count_delete ON jobs",
    "DROP TRIGGER IF EXISTS trg_jobs_count_insert ON jobs",
    "DROP FUNCTION IF EXISTS shisho_jobs_count_moved()",
    "DROP FUNCTION IF EXISTS shisho_jobs_count_deleted()",
    "DROP FUNCTION IF EXISTS shisho_jobs_count_inserted()",
)

BACKFILL_V1: Final = (
    "INSERT INTO job_scope_counts (type, library_key, jobs)"
    " SELECT type, coalesce(library_id, 0), count(*) FROM jobs"
    " GROUP BY type, coalesce(library_id, 0)"
)
"""Counts of the jobs that existed before the triggers did."""


def create_statements(dialect: str) -> tuple[str, ...]:
    """The current trigger DDL for ``dialect`` (``sqlite`` or ``postgresql``)."""
    return SQLITE_CREATE_V1 if dialect == "sqlite" else POSTGRESQL_CREATE_V1


def drop_statements(dialect: str) -> tuple[str, ...]:
    """DDL that removes what :func:`create_statements` made."""
    return SQLITE_DROP_V1 if dialect == "sqlite" else POSTGRESQL_DROP_V1
