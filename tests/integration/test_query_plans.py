"""The status queries read an index and never sort the history, on SQLite and PostgreSQL.

The "this library or global" list is two index range scans (one per arm), each
stopping after ``limit + offset`` rows, merged at the end. Merging those few rows
may take a small sort on SQLite (``USE TEMP B-TREE FOR ORDER BY`` at the top of
the plan, over at most two pages); what must never appear is a sort or a full
scan inside an arm, which would grow with the history.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from shisho_jobs import Database
from shisho_jobs.filters import ListJobsFilter
from shisho_jobs.queries import ACTIVE_ANY, ACTIVE_IN_SCOPE, list_shape_and_params, list_statements
from shisho_jobs.schema import JobRow, utcnow
from shisho_jobs.worker.statements import WorkerStatements

HISTORY = 20_000  # enough rows that a planner prefers indexes on its own


@pytest.fixture
def history(database: Database) -> Database:
    """20,000 finished jobs over libraries 1-3 and global, one active scan, analysed."""
    start = utcnow() - timedelta(days=30)
    rows = [
        {
            "created_at": start + timedelta(seconds=n),
            "updated_at": start + timedelta(seconds=n + 60),
            "type": "scan" if n % 10 else "export",
            "status": "completed" if n % 7 else "failed",
            "data": "{}",
            "progress": 100,
            "library_id": None if n % 20 == 0 else n % 3 + 1,
        }
        for n in range(HISTORY)
    ]
    rows[-1] |= {"status": "pending", "progress": 0, "library_id": 2, "type": "scan"}
    with database.write() as session:
        session.execute(sa.insert(JobRow), rows)
    analyse = "ANALYZE" if database.dialect == "sqlite" else "VACUUM ANALYZE jobs"
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            connection.exec_driver_sql(analyse)
            connection.commit()
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(analyse)
    return database


def _literal_sql(database: Database, statement: sa.Select[Any], values: dict[str, Any]) -> str:
    compiled = statement.params(values).compile(
        dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


LIST_VALUES = {"type": "scan", "library_id_or_global": 1, "limit": 1, "offset": 0, "window": 1}
PAGE_VALUES = {"type": "scan", "library_id_or_global": 1, "limit": 10, "offset": 20, "window": 30}


def _page_statement(**filters: Any) -> sa.Select[Any]:
    """The page query the service runs for these filters."""
    shape, _ = list_shape_and_params(ListJobsFilter(**filters))
    return list_statements(shape)[0]


def _sqlite_plan(database: Database, sql: str) -> list[tuple[int, int, str]]:
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return [(int(row[0]), int(row[1]), str(row[3])) for row in rows]


def _pg_plan_nodes(database: Database, sql: str) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        document = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    nodes, stack = [], [plan]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def _assert_sqlite_uses_indexes_only(plan: list[tuple[int, int, str]]) -> None:
    details = [detail for _, _, detail in plan]
    assert not [d for d in details if d.startswith("SCAN jobs")], details
    assert [d for d in details if d.startswith("SEARCH jobs USING")], details


@pytest.mark.parametrize("values", [LIST_VALUES, PAGE_VALUES], ids=["latest", "third-page"])
def test_scope_list_reads_two_index_ranges(history: Database, values: dict[str, Any]) -> None:
    page = _page_statement(type="scan", library_id_or_global=1)
    sql = _literal_sql(history, page, values)

    if history.dialect == "sqlite":
        plan = _sqlite_plan(history, sql)
        _assert_sqlite_uses_indexes_only(plan)
        arms = [d for _, _, d in plan if "ix_jobs_type_library_created_id" in d]
        assert len(arms) == 2, plan  # one range per arm: library = X, and library IS NULL
        # At most one sort, at the top: the merge of the two LIMITed arms.
        sorts = [(parent, d) for _, parent, d in plan if "TEMP B-TREE" in d]
        assert all(parent == 0 for parent, _ in sorts), plan
        assert len(sorts) <= 1, plan
    else:
        nodes = _pg_plan_nodes(history, sql)
        kinds = [node["Node Type"] for node in nodes]
        assert "Seq Scan" not in kinds, kinds
        assert "Sort" not in kinds, kinds  # the arms are merged by Merge Append
        assert any("Index" in kind for kind in kinds), kinds


def test_has_active_job_reads_the_partial_index(history: Database) -> None:
    for statement, values in (
        (ACTIVE_IN_SCOPE, {"type": "scan", "library_id": 1}),
        (ACTIVE_ANY, {"type": "scan"}),
    ):
        sql = _literal_sql(history, statement, values)
        if history.dialect == "sqlite":
            plan = _sqlite_plan(history, sql)
            _assert_sqlite_uses_indexes_only(plan)
            assert any("ix_jobs_active_scope" in d for _, _, d in plan), plan
        else:
            nodes = _pg_plan_nodes(history, sql)
            kinds = [node["Node Type"] for node in nodes]
            assert "Seq Scan" not in kinds, kinds
            assert any(node.get("Index Name") == "ix_jobs_active_scope" for node in nodes), nodes


def test_unscoped_list_reads_newest_first_from_an_index(history: Database) -> None:
    page = _page_statement()
    sql = _literal_sql(history, page, {"limit": 10, "offset": 0})

    if history.dialect == "sqlite":
        plan = _sqlite_plan(history, sql)
        assert not [d for _, _, d in plan if "TEMP B-TREE" in d], plan
        assert any("ix_jobs_created" in d for _, _, d in plan), plan
    else:
        kinds = [node["Node Type"] for node in _pg_plan_nodes(history, sql)]
        assert "Sort" not in kinds and "Seq Scan" not in kinds, kinds


def test_claim_takes_the_oldest_pending_job_from_the_queue_index(history: Database) -> None:
    # A claim that sorted every pending job would make draining a queue quadratic.
    sql = WorkerStatements.of(history.dialect).claim
    now = utcnow()
    if history.dialect == "sqlite":
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")
        with history.engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            plan = [
                row[3] for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", ("w", *[stamp] * 4))
            ]
        # Walking the partial index (pending jobs only) in its order stops at the first entry.
        assert "SCAN jobs USING INDEX ix_jobs_pending_queue" in plan, plan
        assert not [d for d in plan if "TEMP B-TREE" in d or d == "SCAN jobs"], plan
    else:
        with history.engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", ("w", now, now, now, now))
            document = cursor.fetchone()[0]
        plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        nodes, stack = [], [plan]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.get("Plans", []))
        kinds = [node["Node Type"] for node in nodes]
        assert "Sort" not in kinds and "Seq Scan" not in kinds, kinds
        assert any(node.get("Index Name") == "ix_jobs_pending_queue" for node in nodes), nodes
