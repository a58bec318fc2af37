"""The ``shisho-jobs`` command: ``worker``, ``cancel``, ``db upgrade|downgrade|current`` and
``typegen``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from shisho_jobs.config import database_url
from shisho_jobs.db import Database
from shisho_jobs.db_command import run_db_command
from shisho_jobs.enums import JobStatus
from shisho_jobs.errors import JobAlreadyFinished, JobNotFound
from shisho_jobs.schema import MAX_ID
from shisho_jobs.service import JobService
from shisho_jobs.typegen import run_typegen_command
from shisho_jobs.worker.cli import run_worker_command


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the database (default: $SHISHO_DATABASE_URL, "
        "else the SQLite file under $SHISHO_DATA_DIR)",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _job_id(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"expected a job id from 1 to {MAX_ID}, got {text!r}")
    return int(text)


def _cancel(url: str, job_id: int) -> int:
    """Cancel one job and say what happened; the exit status (0: cancelled or asked)."""
    database = Database(url)
    try:
        job = JobService(database).cancel_job(job_id)
    except JobNotFound as error:
        print(f"shisho-jobs cancel: {error.message}", file=sys.stderr)
        return 1
    except JobAlreadyFinished as error:
        print(f"shisho-jobs cancel: job {job_id} has already finished ({error.job.status}).")
        return 1
    finally:
        database.dispose()
    if job.status == JobStatus.CANCELLED:
        print(f"Job {job_id} cancelled (it had not started).")
    else:
        print(f"Job {job_id} is asked to stop; it ends cancelled once its handler stops.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``shisho-jobs``."""
    parser = argparse.ArgumentParser(prog="shisho-jobs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    worker = commands.add_parser("worker", help="run jobs until SIGTERM/SIGINT")
    _add_database_url(worker)
    worker.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    worker.add_argument(
        "--lease-seconds",
        type=_positive_float,
        default=None,
        help="seconds a claimed job stays leased without a heartbeat "
        "(default $SHISHO_WORKER_LEASE_SECONDS or 30)",
    )
    worker.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=None,
        help="seconds between queue looks without a wake-up, at most 1 "
        "(default $SHISHO_WORKER_POLL_INTERVAL or 1)",
    )
    worker.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE as a plugin (for hosts that are not installed; looked for in "
        "the current folder first, as `python -m` does); repeatable",
    )

    cancel = commands.add_parser(
        "cancel", help="cancel a job: at once if pending, by asking its handler if running"
    )
    _add_database_url(cancel)
    cancel.add_argument("job_id", type=_job_id, metavar="ID", help="the job's id")

    db = commands.add_parser("db", help="migrate the jobs tables")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, default, helptext in (
        ("upgrade", "heads", "upgrade to REVISION (default: the newest)"),
        ("downgrade", "-1", "downgrade to REVISION (default: one step; 'base' drops the tables)"),
    ):
        sub = db_commands.add_parser(name, help=helptext)
        _add_database_url(sub)
        sub.add_argument("revision", nargs="?", default=default, metavar="REVISION")
    current = db_commands.add_parser("current", help="print the revision the database is at")
    _add_database_url(current)

    typegen = commands.add_parser("typegen", help="write TypeScript types of the API")
    typegen.add_argument(
        "--out",
        default="frontend_snippets/types/generated",
        help="folder to write into (default: frontend_snippets/types/generated)",
    )
    typegen.add_argument(
        "--check", action="store_true", help="fail if the files there are not up to date"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shisho-jobs`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "worker":
        url = args.database_url or database_url()
        # A host's hook implementations (libraries, scanner) find their database the
        # way the host does, through SHISHO_DATABASE_URL: a URL given here must
        # reach them too, or the worker would scan one database's libraries into
        # another's jobs.
        os.environ["SHISHO_DATABASE_URL"] = url
        return run_worker_command(
            database_url=url,
            concurrency=args.concurrency,
            plugins=args.plugin,
            lease_seconds=args.lease_seconds,
            poll_interval=args.poll_interval,
        )
    if args.command == "cancel":
        return _cancel(args.database_url or database_url(), args.job_id)
    if args.command == "db":
        url = args.database_url or database_url()
        return run_db_command(args.db_command, url, getattr(args, "revision", None))
    if args.command == "typegen":
        return run_typegen_command(out_dir=args.out, check=args.check)
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
