"""``shisho-jobs db upgrade|downgrade|current``: migrate the jobs tables and say what happened.

Each command first names the database it uses (the password hidden; for SQLite the
file's absolute path), then does its work and prints the revision the database is at
afterwards. A database that cannot be opened (a missing folder, a refused connection)
is one line naming it, not a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from shisho_jobs import migrate
from shisho_jobs.errors import ShishoJobsError


def describe_database(url: str | sa.URL) -> str:
    """The database at ``url`` in words: the URL without its password, and a SQLite file's path."""
    parsed = sa.make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    path = sqlite_file(parsed)
    return f"{shown} (file {path})" if path is not None else shown


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The absolute path of a SQLite database file, ``None`` for other databases or memory."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def describe_revision(url: str | sa.URL) -> str:
    """The revision the database is at, with ``(head)`` when it is the newest."""
    revision = migrate.current(url)
    if revision is None:
        return "none (the jobs tables are not created)"
    heads = ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads()
    return f"{revision} (head)" if revision in heads else f"{revision} (not the newest: {heads[0]})"


def _unopenable(url: str | sa.URL, error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        return (
            f"cannot open the database file {path}: its folder {path.parent} does not exist "
            "(create it, or choose another database with --database-url or SHISHO_DATABASE_URL)"
        )
    return f"cannot open the database {describe_database(url)}: {reason}"


def run_db_command(
    command: str, url: str, revision: str | None, *, out: TextIO | None = None
) -> int:
    """Run ``shisho-jobs db COMMAND`` against ``url``.

    Args:
        command: ``upgrade``, ``downgrade`` or ``current``.
        url: SQLAlchemy URL of the database.
        revision: where to upgrade or downgrade to (ignored by ``current``).
        out: where the report goes (default: stdout; errors go to stderr).

    Returns:
        The exit status: 0 on success, 1 on failure (one line on stderr says why).
    """
    out = out or sys.stdout
    print(f"database: {describe_database(url)}", file=out)
    path = sqlite_file(url)
    try:
        if command == "current" and path is not None and not path.exists():
            # Opening a missing SQLite file would create an empty one: say so instead.
            print(f"shisho-jobs db current: no database file at {path}", file=sys.stderr)
            return 1
        if command == "upgrade":
            migrate.upgrade(url, revision or "heads")
        elif command == "downgrade":
            migrate.downgrade(url, revision or "-1")
        print(f"revision: {describe_revision(url)}", file=out)
    except ShishoJobsError as error:
        print(f"shisho-jobs db {command}: {error.message}", file=sys.stderr)
        return 1
    except CommandError as error:  # an unknown revision, a downgrade below base
        print(f"shisho-jobs db {command}: {error}", file=sys.stderr)
        return 1
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        print(f"shisho-jobs db {command}: {_unopenable(url, error)}", file=sys.stderr)
        return 1
    return 0
