"""The API's bounds (issue 13, items 9 and 10): numbers out of range are 400 naming the field
on both engines, log lines come one page at a time, exports are started or joined like
scans, and every answer of the plugin is sniff-proof and unframeable."""

from __future__ import annotations

import pytest
from plugin_test_host import ApiClient

from shisho_jobs.filters import MAX_LIST_LIMIT, MAX_LIST_OFFSET
from shisho_jobs.schema import MAX_ID
from shisho_resync_plugin.inputs import DEFAULT_LOGS_LIMIT, MAX_LOGS_LIMIT


def _assert_400_naming(response: object, field: str) -> None:
    assert getattr(response, "status_code", None) == 400, getattr(response, "text", response)
    body = response.json()  # type: ignore[attr-defined]
    assert body["extra"]["field"] == field and field in body["detail"], body


@pytest.mark.parametrize(
    "query",
    [
        # limit + offset overflowed PostgreSQL's integer: a 500 before the bound.
        f"offset={MAX_ID}&library_id_or_global=1",
        f"offset={MAX_ID}",
        f"offset={MAX_LIST_OFFSET + 1}&limit=1",
        f"offset={2**63}",
    ],
)
def test_an_offset_beyond_the_bound_is_a_400_naming_it(api: ApiClient, query: str) -> None:
    _assert_400_naming(api.get(f"/api/jobs?{query}"), "offset")


def test_the_largest_offset_answers_an_empty_page(api: ApiClient) -> None:
    api.plugin.runtime.service.create_job("scan", library_id=1)
    for scope in ("", "&library_id_or_global=1", "&status=pending&type=scan"):
        response = api.get(f"/api/jobs?offset={MAX_LIST_OFFSET}&limit={MAX_LIST_LIMIT}{scope}")
        assert response.status_code == 200, response.text
        assert response.json() == {"jobs": [], "total": 1}


def test_log_lines_come_a_page_at_a_time(api: ApiClient) -> None:
    service = api.plugin.runtime.service
    job = service.create_job("export")
    ids = [service.add_job_log(job.id, "info", f"line {n}").id for n in range(250)]

    first = api.get(f"/api/jobs/{job.id}/logs").json()
    rest = api.get(f"/api/jobs/{job.id}/logs?after_id={first['logs'][-1]['id']}").json()
    small = api.get(f"/api/jobs/{job.id}/logs?limit=10&after_id={ids[239]}").json()
    largest = api.get(f"/api/jobs/{job.id}/logs?limit={MAX_LOGS_LIMIT}").json()

    assert [log["id"] for log in first["logs"]] == ids[:DEFAULT_LOGS_LIMIT]
    assert first["has_more"] is True
    assert [log["id"] for log in rest["logs"]] == ids[DEFAULT_LOGS_LIMIT:]
    assert rest["has_more"] is False
    assert [log["id"] for log in small["logs"]] == ids[240:] and small["has_more"] is False
    assert len(largest["logs"]) == 250 and largest["has_more"] is False
    _assert_400_naming(api.get(f"/api/jobs/{job.id}/logs?limit={MAX_LOGS_LIMIT + 1}"), "limit")


def test_a_second_export_of_a_scope_joins_the_first(api: ApiClient) -> None:
    first = api.post("/api/jobs", json={"type": "export", "data": {}, "library_id": 1})
    second = api.post("/api/jobs", json={"type": "export", "data": {}, "library_id": 1})
    other_library = api.post("/api/jobs", json={"type": "export", "data": {}, "library_id": 2})

    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert second.json()["extra"]["job"]["id"] == first.json()["id"]
    assert second.json()["detail"] == "An export job is already running or pending."
    assert other_library.status_code == 201


@pytest.mark.parametrize(
    ("url", "user"),
    [
        ("/api/jobs", "writer"),
        ("/api/jobs", None),  # 401
        ("/api/jobs?limit=0", "writer"),  # 400
        ("/api/jobs/999", "writer"),  # 404
        ("/static/shisho-resync/resync-button.js", None),
    ],
)
def test_the_plugins_answers_are_never_sniffed_or_framed(
    api: ApiClient, url: str, user: str | None
) -> None:
    response = api.get(url, user=user)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    if url.startswith("/api/"):
        # Nothing in an API answer may load or run. (Not on the assets: a script's own CSP
        # would govern the shared worker it starts, which must fetch the event stream.)
        assert "default-src 'none'" in response.headers["content-security-policy"]
