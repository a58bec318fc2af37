"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis), as each role: anonymous,
a reader of every library (``viewer``), a writer of every library (``writer``) and a user
of library 1 only (``librarian``). Every generated request, valid or not, must get an answer
the schema documents (status, content type, body), never a 5xx; invalid input must be
refused. On SQLite and PostgreSQL, against the test host served by uvicorn.

Bounded in time: a few dozen examples per operation, no shrinking deadline. The event
stream is left out (an answer that never ends); its input checks are tested directly in
tests/plugin/test_api_validation.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from plugin_test_host import CSRF_COOKIE, CSRF_HEADER, USER_HEADER, make_app, serve
from schemathesis import checks

from shisho_jobs import Database, JobService
from shisho_resync_plugin.inputs import ID_PATTERN

MAX_EXAMPLES = 25
"""Generated requests per operation and engine (each sent once per role)."""
ROLES = (None, "viewer", "writer", "librarian")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def _seed(service: JobService) -> None:
    """Jobs of libraries 1 and 2 and a global one, with log lines, so ids find something."""
    for library_id in (1, 2, None):
        job = service.create_job("export", library_id=library_id, status="failed")
        service.add_job_log(job.id, "info", f"line of library {library_id}")


@dataclass
class Fuzzed:
    schema: Any
    csrf_token: str


@pytest.fixture
def api(database: Database) -> Iterator[Fuzzed]:
    """The test host served on the engine under test, and its schema as it serves it."""
    app, plugin = make_app(database, sqlite_poll_interval=0.05)
    _seed(plugin.runtime.service)
    with serve(app, plugin) as base_url:
        with httpx.Client(base_url=base_url) as client:
            client.get("/ping")
            token = client.cookies[CSRF_COOKIE]
        schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
        schema.base_url = base_url
        yield Fuzzed(schema.exclude(path_regex=r"/events$"), token)


def test_every_answer_matches_the_schema_and_none_is_a_server_error(api: Fuzzed) -> None:
    # pytest 9 no longer has what schemathesis.pytest.from_fixture needs (Node._nodeid), so
    # each operation's strategy is run by a Hypothesis test of its own, here.
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /api/jobs",
        "GET /api/jobs",
        "GET /api/jobs/{job_id}",
        "GET /api/jobs/{job_id}/logs",
    }
    for operation in operations:
        _fuzz(operation, api.csrf_token)


def test_every_number_at_its_bounds_at_once_is_answered_as_documented(api: Fuzzed) -> None:
    # Random examples rarely set two numbers to their extremes together, which is what made
    # `offset=2147483647&library_id_or_global=1` a 500 on PostgreSQL: every parameter of an
    # operation at its documented minimum, then all at their maximum, in one request.
    sent = 0
    for result in api.schema.get_all_operations():
        operation = result.ok()
        for extreme in ("minimum", "maximum"):
            values = _extremes(operation.definition.raw.get("parameters", []), extreme)
            if not values:
                continue
            case = operation.Case(
                path_parameters=values.get("path") or None, query=values.get("query") or None
            )
            for headers in _role_headers(api.csrf_token):
                case.call_and_validate(headers=headers, checks=CHECKS)
                sent += 1
    assert sent >= 3 * 2 * len(ROLES), "the list, one job and its logs, at both bounds"


def _extremes(parameters: list[dict[str, Any]], extreme: str) -> dict[str, dict[str, Any]]:
    """Each bounded query and path parameter at its ``minimum`` or ``maximum``, by location."""
    values: dict[str, dict[str, Any]] = {}
    for parameter in parameters:
        schema = parameter.get("schema", {})
        members = schema.get("anyOf") or schema.get("oneOf") or [schema]
        for member in members:
            # An optional number's bounds sit beside its oneOf (Litestar writes them there).
            bound = member.get(extreme, schema.get(extreme))
            if member.get("type") == "integer" and bound is not None:
                values.setdefault(parameter["in"], {})[parameter["name"]] = int(bound)
            elif member.get("type") == "string" and member.get("pattern") == ID_PATTERN:
                # Digits only: the shortest and the longest the pattern lets through.
                text = "1" if extreme == "minimum" else "9" * 12
                values.setdefault(parameter["in"], {})[parameter["name"]] = text
    return values


def _role_headers(token: str) -> list[dict[str, str]]:
    headers = []
    for user in ROLES:
        role = {CSRF_HEADER: token, "cookie": f"{CSRF_COOKIE}={token}"}
        if user is not None:
            role[USER_HEADER] = user
        headers.append(role)
    return headers


def _fuzz(operation: Any, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def send_as_every_role(case: Any) -> None:
        for headers in _role_headers(token):
            case.call_and_validate(headers=headers, checks=CHECKS)

    send_as_every_role()
