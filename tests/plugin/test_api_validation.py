"""Validation matrix: every bad field of every route gets 400 naming it and writes nothing;
hostile shapes get a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from plugin_test_host import ApiClient

from shisho_jobs.schema import JobEventRow, JobRow

HUGE = 2**70  # beyond 64 bits
JSON = {"content-type": "application/json"}
FORM = "application/x-www-form-urlencoded"

BAD_BODIES: list[tuple[Any, str]] = [
    ({"type": 5, "data": {}}, "type"),
    ({"type": "nope", "data": {}}, "type"),
    ({"data": {}}, "type"),
    ({"type": "scan"}, "data"),
    ({"type": "scan", "data": []}, "data"),
    ({"type": "scan", "data": None}, "data"),
    ({"type": "scan", "data": {"force": "yes"}}, "data.force"),
    ({"type": "scan", "data": {"bogus": 1}}, "data.bogus"),
    ({"type": "scan", "data": {}, "library_id": "1"}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": HUGE}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": -HUGE}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": 0}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": 2**31}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": 1.5}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": True}, "library_id"),
    ({"type": "scan", "data": {}, "library_id": 99}, "library_id"),  # no such library
    ({"type": "scan", "data": {}, "library_id": 1, "evil": 1}, "evil"),
    ([{"type": "scan", "data": {}}], "body"),
    ("scan", "body"),
]


def _nothing_written(api: ApiClient) -> None:
    with api.plugin.runtime.database.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(JobRow)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(JobEventRow)) == 0


def _assert_names_field(response: Any, field: str, case: object) -> None:
    assert response.status_code == 400, (case, response.status_code, response.text)
    body = response.json()
    assert body["extra"]["field"] == field, (case, body)
    assert f"`{field}`" in body["detail"], (case, body)


def test_create_rejects_each_bad_field(api: ApiClient) -> None:
    for body, field in BAD_BODIES:
        _assert_names_field(api.post("/api/jobs", json=body), field, body)
    _nothing_written(api)


def test_create_rejects_hostile_bodies(api: ApiClient) -> None:
    cases: list[tuple[bytes, dict[str, str], int, str | None]] = [
        (b'{"type": "scan", "data": {', JSON, 400, "body"),  # not JSON
        (b"", JSON, 400, "body"),
        (b"\xff\xfe", JSON, 400, "body"),
        # Deeply nested: refused before it reaches the database.
        (b'{"type":"scan","data":{"a":' + b"[" * 20_000 + b"]" * 20_000 + b"}}", JSON, 400, None),
        (b"[" * 60_000, JSON, 400, "body"),
        (b'{"type":"scan","data":{},"library_id":1}', {"content-type": "text/plain"}, 400, None),
        (
            b"type=scan&library_id=1",
            {"content-type": "application/x-www-form-urlencoded"},
            400,
            None,
        ),
        (b'{"type":"scan","data":{},"library_id":1}', {}, 400, "Content-Type"),
        (b'{"type":"scan","data":{"x":"' + b"a" * 100_000 + b'"}}', JSON, 413, None),
    ]
    for content, headers, status, field in cases:
        response = api.post("/api/jobs", content=content, headers=headers)
        assert response.status_code == status, (content[:60], response.text[:300])
        if field is not None:
            assert response.json()["extra"]["field"] == field, response.text[:300]
        elif status == 400:
            assert response.json()["extra"]["field"] in {"body", "data", "Content-Type"}
    _nothing_written(api)


def test_list_rejects_each_bad_query_parameter(api: ApiClient) -> None:
    cases = [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        (f"limit={HUGE}", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("limit=1&limit=2", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        (f"offset={HUGE}", "offset"),
        ("status=bad", "status"),
        ("status=pending&status=bad", "status"),
        ("type=nope", "type"),
        ("library_id_or_global=abc", "library_id_or_global"),
        ("library_id_or_global=0", "library_id_or_global"),
        (f"library_id_or_global={2**64}", "library_id_or_global"),
        ("library_id_or_global=1&library_id_or_global=2", "library_id_or_global"),
        ("surprise=1", "surprise"),
    ]
    for query, field in cases:
        _assert_names_field(api.get(f"/api/jobs?{query}"), field, query)


def test_path_ids_must_be_positive_integers(api: ApiClient) -> None:
    bad_ids = ["abc", "0", "-1", "1.5", str(2**31), str(HUGE), "1e3", "%20", "0x10"]
    for bad in bad_ids:
        for route in (f"/api/jobs/{bad}", f"/api/jobs/{bad}/logs"):
            _assert_names_field(api.get(route), "job_id", route)


def test_logs_reject_each_bad_query_parameter(api: ApiClient) -> None:
    job = api.plugin.runtime.service.create_job("export")
    cases = [
        ("after_id=abc", "after_id"),
        ("after_id=-1", "after_id"),
        (f"after_id={HUGE}", "after_id"),
        ("level=loud", "level"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=1", "since"),
    ]
    for query, field in cases:
        _assert_names_field(api.get(f"/api/jobs/{job.id}/logs?{query}"), field, query)


def test_logs_filter_by_level_and_follow_after_an_id(api: ApiClient) -> None:
    service = api.plugin.runtime.service
    job = service.create_job("export")
    first = service.add_job_log(job.id, "info", "started")
    service.add_job_log(job.id, "warn", "unreadable file")
    service.add_job_log(job.id, "error", "gave up")
    response = api.get(f"/api/jobs/{job.id}/logs?after_id={first.id}&level=warn&level=error")
    assert response.status_code == 200
    assert [log["message"] for log in response.json()["logs"]] == ["unreadable file", "gave up"]


def test_events_reject_bad_input_before_streaming(api: ApiClient) -> None:
    for query, field in [
        ("library_id=abc", "library_id"),
        ("library_id=0", "library_id"),
        (f"library_id={HUGE}", "library_id"),
        ("topic=1", "topic"),
    ]:
        _assert_names_field(api.get(f"/api/jobs/events?{query}"), field, query)
    response = api.get("/api/jobs/events", headers={"last-event-id": "yesterday"})
    _assert_names_field(response, "Last-Event-ID", "Last-Event-ID")
