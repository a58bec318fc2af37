"""Meta-test: every hook has a ``test_hook_<name>`` test and an entry in docs/hooks.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shisho_jobs import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = ROOT / "docs" / "hooks.md"
TESTS = Path(__file__).resolve().parent


def _hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, marker)
    )


def _test_functions() -> set[str]:
    pattern = re.compile(r"^def (test_hook_\w+)\(", re.MULTILINE)
    return {name for path in TESTS.rglob("test_*.py") for name in pattern.findall(path.read_text())}


def _documented_hooks() -> set[str]:
    return set(re.findall(r"^### `(\w+)\(", HOOKS_DOC.read_text(), re.MULTILINE))


def test_the_hook_list_is_not_empty() -> None:
    assert {"get_library", "scan_library", "nav_items", "job_finished"} <= set(_hook_names())


@pytest.mark.parametrize("hook", _hook_names())
def test_each_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_functions(), f"add a test named test_hook_{hook}"


@pytest.mark.parametrize("hook", _hook_names())
def test_each_hook_is_documented(hook: str) -> None:
    assert hook in _documented_hooks(), f"document {hook} in docs/hooks.md as ### `{hook}(...)`"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert _documented_hooks() <= set(_hook_names())
