"""``shisho-jobs worker``: run a worker in the foreground until SIGTERM/SIGINT.

Tuning that the command line does not expose is read from the environment:

| variable | meaning | default |
|---|---|---|
| ``SHISHO_WORKER_LEASE_SECONDS`` | lease of a claimed job without heartbeat | 30 |
| ``SHISHO_WORKER_POLL_INTERVAL`` | seconds between queue looks without wake-up (max 1) | 1 |
| ``SHISHO_WORKER_GRACE_SECONDS`` | seconds handlers get to stop on shutdown | 10 |
| ``SHISHO_JOB_RETENTION_DAYS`` | finished jobs are deleted after this; ``off`` keeps them | 30 |
| ``SHISHO_GLOBAL_SCAN_INTERVAL`` | seconds between automatic global scans | off |
| ``SHISHO_STALL_SECONDS`` | a running job without progress this long is marked stalled | 600 |
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, ModuleType

from shisho_jobs.config import DEFAULT_STALL_SECONDS
from shisho_jobs.errors import InvalidSetting, PluginImportFailed
from shisho_jobs.plugins import get_plugin_manager
from shisho_jobs.worker.worker import (
    GRACE_PERIOD,
    LEASE_SECONDS,
    POLL_INTERVAL,
    RETENTION_DAYS,
    Worker,
)

_logger = logging.getLogger("shisho_jobs.worker")


def _env_seconds(name: str, default: float | None) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value.lower() in {"off", "none", "never"}:
        return None
    try:
        number = float(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds (or 'off'), not {value!r}") from None
    if number <= 0:
        raise SystemExit(f"{name} must be positive, not {value!r}")
    return number


def import_plugin_modules(names: Sequence[str], folder: Path | None = None) -> list[ModuleType]:
    """Import the ``--plugin`` modules, looking in ``folder`` (the current one) first.

    The console script, unlike ``python -m``, does not put the current folder on
    ``sys.path``; a host that is not installed runs the worker from its own folder,
    so its modules are found there.

    Args:
        names: dotted module names.
        folder: where to look before the installed packages (default: the current folder).

    Raises:
        PluginImportFailed: a module is missing, or importing it raised.
    """
    where = str((folder or Path.cwd()).resolve())
    if where not in sys.path:
        sys.path.insert(0, where)
    modules: list[ModuleType] = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name is not None and (name == error.name or name.startswith(f"{error.name}.")):
                message = (
                    f"--plugin {name}: no module named {error.name!r} in {where} "
                    "or the installed packages (run the worker from the folder that holds "
                    "it, or install the host)"
                )
                raise PluginImportFailed(message) from None
            raise PluginImportFailed(f"--plugin {name}: importing it failed: {error}") from None
        except Exception as error:
            message = f"--plugin {name}: importing it failed: {type(error).__name__}: {error}"
            raise PluginImportFailed(message) from error
    return modules


def _required(value: float | None, name: str) -> float:
    if value is None:
        raise SystemExit(f"{name} cannot be 'off'")
    return value


def run_worker_command(
    database_url: str,
    concurrency: int,
    plugins: Sequence[str],
    *,
    lease_seconds: float | None = None,
    poll_interval: float | None = None,
) -> int:
    """Run a worker until SIGTERM or SIGINT, then stop it cleanly.

    On a signal the worker stops claiming, asks running handlers to stop, waits up
    to the grace period and re-queues the jobs it interrupted; exit status 0.
    A second signal skips the rest of the grace period.

    Args:
        database_url: SQLAlchemy URL of the jobs database.
        concurrency: how many jobs run at once.
        plugins: modules to register as plugins, besides the ``shisho`` entry points.
        lease_seconds: overrides ``SHISHO_WORKER_LEASE_SECONDS``.
        poll_interval: overrides ``SHISHO_WORKER_POLL_INTERVAL``.

    Returns:
        The process exit status.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    if concurrency < 1:
        print("--concurrency must be 1 or more", file=sys.stderr)
        return 2
    try:
        modules = import_plugin_modules(plugins)
    except PluginImportFailed as error:
        print(f"shisho-jobs worker: {error}", file=sys.stderr)
        return 2
    try:
        worker = _worker(database_url, concurrency, modules, lease_seconds, poll_interval)
    except InvalidSetting as error:
        print(error, file=sys.stderr)
        return 2
    signals_seen = 0

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            _logger.warning("second %s: re-queuing running jobs now", signal.Signals(signum).name)
            worker.grace_period = 0.0
        else:
            _logger.info("%s: finishing up", signal.Signals(signum).name)
        worker.request_stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"worker {worker.process_id} running; stop with Ctrl-C or SIGTERM", file=sys.stderr)
    worker.run()
    return 0


def _worker(
    database_url: str,
    concurrency: int,
    plugins: Sequence[object],
    lease_seconds: float | None,
    poll_interval: float | None,
) -> Worker:
    """The worker the command runs, tuned from the environment."""
    return Worker(
        database_url,
        plugin_manager=get_plugin_manager(load_entry_points=True, plugins=plugins),
        concurrency=concurrency,
        lease_seconds=lease_seconds
        or _required(_env_seconds("SHISHO_WORKER_LEASE_SECONDS", LEASE_SECONDS), "lease"),
        poll_interval=poll_interval
        or _required(_env_seconds("SHISHO_WORKER_POLL_INTERVAL", POLL_INTERVAL), "poll"),
        grace_period=_required(_env_seconds("SHISHO_WORKER_GRACE_SECONDS", GRACE_PERIOD), "grace"),
        retention_days=_env_seconds("SHISHO_JOB_RETENTION_DAYS", RETENTION_DAYS),
        stall_seconds=_required(
            _env_seconds("SHISHO_STALL_SECONDS", DEFAULT_STALL_SECONDS), "stall"
        ),
    )
