"""The foreign host (``app/``, written from the README and docs/ only), installed and run
the way its developer would: shisho-resync from the BUILT WHEEL in a fresh virtual
environment, the app run from its own folder (not installed), its own Alembic history,
``shisho-jobs db upgrade``, uvicorn, and a separate ``shisho-jobs worker --plugin``.

Cost: building the wheel and installing it with its dependencies into a new virtual
environment takes about a minute (10 s wheel, ~45 s install on the 2-core machine, less with
pip's cache warm); both are made once per test session and shared by the tests here.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from bookshelf_site import Bookshelf, ForeignVenv, run_env

from polling import wait_until

REPO = Path(__file__).resolve().parents[2]
APP_SOURCE = Path(__file__).resolve().parent / "app"
INSTALL_TIMEOUT = 600  # seconds: a cold pip cache on a busy 2-core machine
START_TIMEOUT = 60.0  # seconds for the server and the worker to come up


def _host_requirements(wheel: Path) -> list[str]:
    """The host's dependencies from its pyproject, with shisho-resync taken from the wheel."""
    project = tomllib.loads((APP_SOURCE / "pyproject.toml").read_text())["project"]
    return [
        f"{requirement} @ {wheel.as_uri()}"
        if requirement.startswith("shisho-resync")
        else requirement
        for requirement in project["dependencies"]
    ]


@pytest.fixture(scope="session")
def foreign_venv(tmp_path_factory: pytest.TempPathFactory) -> ForeignVenv:
    """Build the wheel, make a fresh virtual environment, install the wheel and the host's deps."""
    root = tmp_path_factory.mktemp("foreign_venv")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    (wheel,) = dist.glob("shisho_resync-*.whl")
    venv = ForeignVenv(root / "venv", wheel)
    subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True, timeout=120)
    subprocess.run(
        [venv.bin("pip"), "install", "--quiet", *_host_requirements(wheel)],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    return venv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def bookshelf(
    foreign_venv: ForeignVenv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bookshelf]:
    """The host set up as its README says, serving on a free port, with one worker."""
    folder = tmp_path_factory.mktemp("bookshelf") / "bookshelf"
    shutil.copytree(APP_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    books = folder / "books"
    books.mkdir()
    for name in ("Emma.epub", "Persuasion.epub", "Sanditon.epub"):
        (books / name).write_bytes(b"not parsed by this host's scanner")
    port = _free_port()
    site = Bookshelf(folder, f"http://127.0.0.1:{port}", foreign_venv, folder / "worker.log")
    (folder / "var").mkdir()
    # The host's first release: its own revision 0001 only (0002 comes later, see the tests).
    _check(site.run("alembic", "upgrade", "0001_libraries"))
    _check(site.run("shisho-jobs", "db", "upgrade"))
    _check(site.run("python", "-m", "bookshelf.manage", "add-library", "Books", "./books"))
    env = run_env(foreign_venv)
    with site.worker_log.open("wb") as worker_log, (folder / "server.log").open("wb") as server_log:
        server = subprocess.Popen(
            [foreign_venv.bin("uvicorn"), "bookshelf.app:app", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [foreign_venv.bin("shisho-jobs"), "worker", "--plugin", "bookshelf.hooks"],
            cwd=folder,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: _listening(port) or server.poll() is not None,
                timeout=START_TIMEOUT,
                what="the foreign host's server listens",
            )
            assert server.poll() is None, (folder / "server.log").read_text()
            wait_until(
                lambda: "running" in site.worker_log.read_text() or worker.poll() is not None,
                timeout=START_TIMEOUT,
                what="the foreign host's worker runs",
            )
            assert worker.poll() is None, site.worker_log.read_text()
            yield site
        finally:
            _stop(worker)
            _stop(server)
