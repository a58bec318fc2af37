"""Every name a host or a plugin needs comes from the package roots (CONTRACT section 3), and
the docs, the README and the hosts built from them import nothing else (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import shisho_jobs
import shisho_jobs.context
import shisho_resync_plugin

ROOT = Path(__file__).resolve().parents[2]

CORE_NAMES = (
    "hookimpl",
    "Library",
    "ActorAccess",
    "NavItem",
    "NavContext",
    "JobTypeSpec",
    "JobContext",
    "JobFailed",
    "JobService",
    "ListJobsOptions",
    "Database",
    "Worker",
    "get_plugin_manager",
    "JobStatus",
    "JobType",
)
PLUGIN_NAMES = ("ResyncPlugin", "ResyncConfig")

SET_UP_MODULES = {"shisho_jobs.config", "shisho_jobs.migrate"}
"""Submodules a host may import for its set-up: the database URL and its env.py helpers."""

HOST_FACING = (
    "README.md",
    "docs/hooks.md",
    "docs/plugin.md",
    "docs/schema.md",
    "tests/foreign_host/app",
    "examples/library_host/src/library_host/hooks.py",
    "examples/library_host/src/library_host/app.py",
)
_SUBMODULE_IMPORT = re.compile(
    r"^\s*(?:from\s+(shisho_(?:jobs|resync_plugin)\.[\w.]+)\s+import|import\s+(shisho_\w+\.[\w.]+))",
    re.MULTILINE,
)


@pytest.mark.parametrize("name", CORE_NAMES)
def test_the_core_exports(name: str) -> None:
    assert name in shisho_jobs.__all__
    assert getattr(shisho_jobs, name) is not None


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_the_plugin_exports(name: str) -> None:
    assert name in shisho_resync_plugin.__all__
    assert getattr(shisho_resync_plugin, name) is not None


def test_job_failed_is_one_class_wherever_it_is_imported_from() -> None:
    # Hosts written before the root export import it from the submodule.
    assert shisho_jobs.context.JobFailed is shisho_jobs.JobFailed


def _files() -> list[Path]:
    found: list[Path] = []
    for entry in HOST_FACING:
        path = ROOT / entry
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_host_facing_code_imports_only_the_package_roots(path: Path) -> None:
    imported = {a or b for a, b in _SUBMODULE_IMPORT.findall(path.read_text())}
    assert imported <= SET_UP_MODULES, f"import these from the package roots: {imported}"
