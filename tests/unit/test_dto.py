"""The API's msgspec DTOs: valid input decodes, bad input names its field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from shisho_jobs import CreateJobPayload, InvalidJobInput, Job, JobStatus, ListJobsQuery
from shisho_jobs.dto import JobLog, ListJobsResponse
from shisho_jobs.payloads import JobScanData
from shisho_jobs.validation import convert, decode_json


def test_create_payload_decodes_a_library_scan() -> None:
    payload = decode_json(b'{"type": "scan", "data": {}, "library_id": 3}', CreateJobPayload)

    assert payload == CreateJobPayload(type="scan", data={}, library_id=3)


@pytest.mark.parametrize(
    "body", [b'{"type": "scan", "data": {}}', b'{"type": "scan", "data": {}, "library_id": null}']
)
def test_create_payload_without_library_is_global(body: bytes) -> None:
    assert decode_json(body, CreateJobPayload).library_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"data": {}}', "type"),
        (b'{"type": "scan"}', "data"),
        (b'{"type": 1, "data": {}}', "type"),
        (b'{"type": "scan", "data": []}', "data"),
        (b'{"type": "scan", "data": "x"}', "data"),
        (b'{"type": "scan", "data": {}, "library_id": "3"}', "library_id"),
        (b'{"type": "scan", "data": {}, "library_id": 0}', "library_id"),
        (b'{"type": "scan", "data": {}, "library_id": 2147483648}', "library_id"),
        (b'{"type": "scan", "data": {}, "library_id": 1.5}', "library_id"),
        (b'{"type": "scan", "data": {}, "libary_id": 1}', "libary_id"),
        (b"[]", "body"),
        (b"{not json", "body"),
    ],
)
def test_create_payload_refuses_bad_input_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidJobInput) as refused:
        decode_json(body, CreateJobPayload)

    assert refused.value.field == field
    assert f"`{field}`" in str(refused.value)


def test_list_query_defaults() -> None:
    query = convert({}, ListJobsQuery)

    assert (query.limit, query.offset, query.status, query.type) == (10, 0, (), None)
    assert query.library_id_or_global is None


def test_list_query_accepts_the_full_range() -> None:
    query = convert(
        {
            "limit": 100,
            "offset": 0,
            "status": ["pending", "failed"],
            "type": "scan",
            "library_id_or_global": 2,
        },
        ListJobsQuery,
    )

    assert query.limit == 100
    assert query.status == (JobStatus.PENDING, JobStatus.FAILED)
    assert convert({"limit": 1}, ListJobsQuery).limit == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": ["done"]}, "status.0"),
        ({"status": ["pending", "finished"]}, "status.1"),
        ({"status": "pending"}, "status"),
        ({"type": 3}, "type"),
        ({"library_id_or_global": "x"}, "library_id_or_global"),
        ({"library_id_or_global": -1}, "library_id_or_global"),
        ({"page": 2}, "page"),
    ],
)
def test_list_query_refuses_bad_input_naming_the_field(query: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidJobInput) as refused:
        convert(query, ListJobsQuery)

    assert refused.value.field == field


def test_prefix_names_nested_fields() -> None:
    with pytest.raises(InvalidJobInput) as refused:
        convert({"force": "yes"}, JobScanData, prefix="data")

    assert refused.value.field == "data.force"


def _job(**changes: Any) -> Job:
    stamp = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "type": "scan",
        "status": JobStatus.PENDING,
        "data": JobScanData(),
        "progress": 0,
    }
    return Job(**(values | changes))


def test_job_json_omits_null_optionals_and_carries_utc_offsets() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(_job()))

    assert encoded == {
        "id": 1,
        "created_at": "2026-11-29T10:00:00Z",
        "updated_at": "2026-11-29T10:00:00Z",
        "type": "scan",
        "status": "pending",
        "data": {},
        "progress": 0,
    }


def test_job_json_carries_library_and_process_when_set() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(_job(library_id=3, process_id="w-1")))

    assert (encoded["library_id"], encoded["process_id"]) == (3, "w-1")


def test_job_is_active_while_pending_or_in_progress() -> None:
    assert _job().is_active
    assert _job(status=JobStatus.IN_PROGRESS).is_active
    assert not _job(status=JobStatus.COMPLETED).is_active
    assert not _job(status=JobStatus.FAILED).is_active


def test_list_response_and_log_json() -> None:
    stamp = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    log = JobLog(id=5, created_at=stamp, job_id=1, level="warn", message="unreadable")
    encoded = msgspec.json.decode(msgspec.json.encode(ListJobsResponse(jobs=[_job()], total=7)))

    assert encoded["total"] == 7
    assert encoded["jobs"][0]["id"] == 1
    assert msgspec.json.decode(msgspec.json.encode(log)) == {
        "id": 5,
        "created_at": "2026-11-29T10:00:00Z",
        "job_id": 1,
        "level": "warn",
        "message": "unreadable",
    }
