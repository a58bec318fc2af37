"""The examples of docs/hooks.md and docs/plugin.md run as they are written.

Every fenced ``python`` block right after a ``<!-- run -->`` line is a complete module: it is
run on its own (imports included) in a folder with a migrated jobs database behind
``SHISHO_DATABASE_URL``, and its hook implementations are registered with a fresh plugin
manager, which checks each against its spec (a misspelt hook or argument fails).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from shisho_jobs import Database, get_plugin_manager, hookspecs, migrate

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("docs/hooks.md", "docs/plugin.md")
_RUN_BLOCK = re.compile(r"^<!-- run -->\n```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_HOOKIMPL_MARKER = f"{hookspecs.PROJECT_NAME}_impl"


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        for match in _RUN_BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((f"{doc}:{line}", match.group(1)))
    return found


EXAMPLES = _examples()


def test_the_docs_mark_their_examples_to_run() -> None:
    per_doc = {doc: sum(name.startswith(doc) for name, _ in EXAMPLES) for doc in DOCS}
    assert per_doc["docs/hooks.md"] >= 10, per_doc
    assert per_doc["docs/plugin.md"] >= 3, per_doc


def test_every_python_block_of_the_docs_runs() -> None:
    """No example is left out of the run by forgetting its marker."""
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        blocks = len(re.findall(r"^```python$", text, re.MULTILINE))
        marked = len(_RUN_BLOCK.findall(text))
        assert blocks == marked, f"{doc}: {blocks - marked} python blocks without <!-- run -->"


@pytest.fixture
def docs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host's folder: ``var/`` with a migrated jobs database the examples' defaults find."""
    (tmp_path / "var").mkdir()
    (tmp_path / "templates").mkdir()
    url = f"sqlite:///{tmp_path / 'var' / 'shisho.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
    engine.dispose()
    migrate.upgrade(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHISHO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHISHO_DATA_DIR", raising=False)
    return tmp_path


@pytest.mark.parametrize(("where", "source"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_doc_example_runs(where: str, source: str, docs_folder: Path) -> None:
    module = ModuleType("doc_example_" + re.sub(r"\W", "_", where))
    module.__file__ = str(docs_folder / "example.py")
    sys.modules[module.__name__] = module  # dataclasses and msgspec look their module up
    try:
        exec(compile(source, where, "exec"), module.__dict__)
        manager = get_plugin_manager(load_entry_points=False)
        manager.register(module)  # validates every @hookimpl against its spec
        implemented = [
            name
            for name, value in vars(module).items()
            if callable(value) and hasattr(value, _HOOKIMPL_MARKER)
        ]
        for name in implemented:
            assert getattr(manager.hook, name).get_hookimpls(), f"{where}: {name} not registered"
    finally:
        del sys.modules[module.__name__]
        for value in vars(module).values():
            if isinstance(value, Database):
                value.dispose()
