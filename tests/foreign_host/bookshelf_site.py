"""The foreign host's test harness: its virtual environment and the running app."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ForeignVenv:
    """A fresh virtual environment holding shisho-resync from its wheel, and the host's deps."""

    path: Path
    wheel: Path

    def bin(self, name: str) -> str:
        """A console script of the environment."""
        return str(self.path / "bin" / name)


@dataclass
class Bookshelf:
    """The foreign host, copied into its own folder and running."""

    folder: Path
    base_url: str
    venv: ForeignVenv
    worker_log: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a command of the environment in the app's folder, as its developer would."""
        return subprocess.run(
            [self.venv.bin(args[0]), *args[1:]],
            cwd=self.folder,
            env=run_env(self.venv),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def run_env(venv: ForeignVenv) -> dict[str, str]:
    """A clean environment: none of the test run's SHISHO_* settings leak into the host."""
    return {
        "PATH": f"{venv.path / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "SHISHO_WATCH": "0",
        "BOOKSHELF_SECRET": "a secret of the foreign host's test, long enough for CSRF",
    }
