"""A job's ``warnings`` count, kept by a database trigger on ``job_logs``.

``jobs.warnings`` is the number of ``warn`` lines of the job. The trigger adds one
in the statement that inserts each such line, whoever writes it (the worker, the
service, a rescue), so the count is never off and costs no second round trip.

The DDL is versioned as in :mod:`shisho_jobs.scope_counts`: a revision that
installed ``*_V1`` keeps meaning it.

A later revision that rebuilds ``jobs`` on SQLite should drop this trigger first
and make it again afterwards: SQLite checks trigger bodies when a table is renamed.
"""

from __future__ import annotations

from typing import Final

_BUMP = "UPDATE jobs SET warnings = warnings + 1 WHERE id = NEW.job_id;"

SQLITE_CREATE_V1: Final[tuple[str, ...]] = (
    "CREATE TRIGGER trg_job_logs_count_warning AFTER INSERT ON job_logs"
    f" WHEN NEW.level = 'warn' BEGIN {_BUMP} END",
)
SQLITE_DROP_V1: Final[tuple[str, ...]] = ("DROP TRIGGER IF EXISTS trg_job_logs_count_warning",)

# Row level with a WHEN clause: lines of other levels never call the function.
POSTGRESQL_CREATE_V1: Final[tuple[str, ...]] = (
    "CREATE FUNCTION shisho_jobs_count_warning() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" BEGIN {_BUMP} RETURN NULL; END $$",
    "CREATE TRIGGER trg_job_logs_count_warning AFTER INSERT ON job_logs FOR EACH ROW"
    " WHEN (NEW.level = 'warn') EXECUTE FUNCTION shisho_jobs_count_warning()",
)
POSTGRESQL_DROP_V1: Final[tuple[str, ...]] = (
    "DROP TRIGGER IF EXISTS trg_job_logs_count_warning ON job_logs",
    "DROP FUNCTION IF EXISTS shisho_jobs_count_warning()",
)

BACKFILL_V1: Final = (
    "UPDATE jobs SET warnings = (SELECT count(*) FROM job_logs"
    " WHERE job_logs.job_id = jobs.id AND job_logs.level = 'warn')"
    " WHERE id IN (SELECT job_id FROM job_logs WHERE level = 'warn')"
)
"""Counts of the warn lines written before the trigger existed."""


def create_statements(dialect: str) -> tuple[str, ...]:
    """The current trigger DDL for ``dialect`` (``sqlite`` or ``postgresql``)."""
    return SQLITE_CREATE_V1 if dialect == "sqlite" else POSTGRESQL_CREATE_V1


def drop_statements(dialect: str) -> tuple[str, ...]:
    """DDL that removes what :func:`create_statements` made."""
    return SQLITE_DROP_V1 if dialect == "sqlite" else POSTGRESQL_DROP_V1
