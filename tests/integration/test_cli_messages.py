"""What ``shisho-jobs`` tells a host developer: which database, which revision, which hook is
missing, which module was not found, in one line each instead of a traceback (issue 14)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from polling import wait_until
from schema_support import create_schema
from shisho_jobs import Database, Worker, get_plugin_manager, migrate
from shisho_jobs.cli import main as cli_main

SHISHO_JOBS = str(Path(sys.executable).with_name("shisho-jobs"))
START_DEADLINE = 60.0  # seconds for a worker process to start on a loaded machine

HOST_HOOKS = """
from shisho_jobs import Library, hookimpl


@hookimpl
def list_libraries():
    return [Library(id=1, name="Books", path=".")]


@hookimpl
def get_library(library_id):
    return Library(id=1, name="Books", path=".") if library_id == 1 else None


@hookimpl
def scan_library(library, context):
    return {"files": 0}
"""


def _host_database(folder: Path) -> str:
    (folder / "var").mkdir()
    url = f"sqlite:///{folder / 'var' / 'shisho.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
    engine.dispose()
    return url


@contextmanager
def _worker(folder: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A ``shisho-jobs worker`` started in ``folder``; yields it and its output file."""
    output = folder / "worker.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [SHISHO_JOBS, "worker", *args],
            cwd=folder,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _wait_for(process: subprocess.Popen[bytes], output: Path, words: str) -> str:
    """The worker's output once it holds ``words`` (or the worker ended)."""

    def seen() -> str | None:
        text = output.read_text()
        return text if words in text or process.poll() is not None else None

    return wait_until(seen, timeout=START_DEADLINE, what=f"the worker prints {words!r}")


# --- --plugin ---------------------------------------------------------------------------------


def test_plugin_module_is_found_in_the_current_folder(tmp_path: Path) -> None:
    url = _host_database(tmp_path)
    migrate.upgrade(url)
    (tmp_path / "myhost_hooks.py").write_text(HOST_HOOKS)
    with _worker(tmp_path, "--database-url", url, "--plugin", "myhost_hooks") as (process, out):
        text = _wait_for(process, out, "running")
        assert process.poll() is None, text
    assert "ModuleNotFoundError" not in text
    assert "no plugin answers" not in text


def test_a_missing_plugin_module_is_one_line(tmp_path: Path) -> None:
    url = _host_database(tmp_path)
    result = subprocess.run(
        [SHISHO_JOBS, "worker", "--database-url", url, "--plugin", "myhost.nowhere"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--plugin myhost.nowhere: no module named 'myhost'" in lines[0]
    assert str(tmp_path.resolve()) in lines[0]
    assert "Traceback" not in result.stderr


def test_a_worker_without_host_hooks_warns_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # In-process: this environment has the reference host's entry point installed, so a
    # worker process would find its hooks. tests/foreign_host checks the command itself.
    database = Database(sqlite_url)
    create_schema(database)
    worker = Worker(
        database, plugin_manager=get_plugin_manager(load_entry_points=False), poll_interval=0.05
    )
    with caplog.at_level(logging.WARNING, logger="shisho_jobs.plugins"):
        worker.start()
        try:
            warning = wait_until(
                lambda: next(
                    (r.getMessage() for r in caplog.records if "no plugin" in r.msg), None
                ),
                timeout=START_DEADLINE,
                what="the worker warns",
            )
        finally:
            worker.stop()
            database.dispose()
    assert "no plugin answers get_library, list_libraries, scan_library" in warning
    assert "scans of the host's libraries will fail" in warning
    assert "[project.entry-points.shisho]" in warning
    assert "--plugin" in warning
    assert "get_plugin_manager(plugins=[" in warning


def test_a_worker_with_the_hosts_hooks_does_not_warn(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(sqlite_url)
    create_schema(database)
    hooks = ModuleType("myhost_hooks")
    exec(HOST_HOOKS, hooks.__dict__)
    manager = get_plugin_manager(load_entry_points=False, plugins=[hooks])
    worker = Worker(database, plugin_manager=manager, poll_interval=0.05)
    with caplog.at_level(logging.INFO, logger="shisho_jobs"):
        worker.start()
        try:
            wait_until(
                lambda: any("started" in r.getMessage() for r in caplog.records),
                timeout=START_DEADLINE,
                what="the worker starts",
            )
        finally:
            worker.stop()
            database.dispose()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- db upgrade | downgrade | current ---------------------------------------------------------


def test_db_upgrade_without_a_data_folder_is_one_line_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHISHO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHISHO_DATA_DIR", raising=False)

    assert cli_main(["db", "upgrade"]) == 1

    captured = capsys.readouterr()
    expected = tmp_path.resolve() / "var" / "shisho.db"
    assert f"database: sqlite:///{expected}" in captured.out
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("shisho-jobs db upgrade: cannot open the database file ")
    assert str(expected) in line
    assert f"its folder {expected.parent} does not exist" in line
    assert not (tmp_path / "var").exists()


def test_db_commands_name_the_database_and_the_revision_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _host_database(tmp_path)
    path = tmp_path / "var" / "shisho.db"

    assert cli_main(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"database: {url} (file {path})",
        "revision: none (the jobs tables are not created)",
    ]

    assert cli_main(["db", "upgrade", "--database-url", url]) == 0
    head = migrate.current(url)
    assert capsys.readouterr().out.splitlines() == [
        f"database: {url} (file {path})",
        f"revision: {head} (head)",
    ]

    assert cli_main(["db", "downgrade", "--database-url", url]) == 0
    lower = migrate.current(url)
    assert lower is not None
    assert lower != head
    out = capsys.readouterr().out
    assert f"revision: {lower} (not the newest: {head})" in out

    assert cli_main(["db", "current", "--database-url", url]) == 0
    assert f"revision: {lower} (not the newest" in capsys.readouterr().out


def test_db_current_does_not_create_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'nothing-here.db'}"
    assert cli_main(["db", "current", "--database-url", url]) == 1
    assert "no database file at" in capsys.readouterr().err
    assert not (tmp_path / "nothing-here.db").exists()


def test_db_names_an_unreachable_postgres_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:1/nowhere?connect_timeout=2"
    assert cli_main(["db", "upgrade", "--database-url", url]) == 1
    captured = capsys.readouterr()
    assert "secret" not in captured.out + captured.err
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("shisho-jobs db upgrade: cannot open the database postgresql+psycopg://")
    assert "127.0.0.1:1/nowhere" in line
