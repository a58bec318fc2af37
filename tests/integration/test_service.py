"""JobService on SQLite and PostgreSQL: the seed's Task-4 tests, filters, paging, payloads."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from msgspec.structs import replace

from shisho_jobs import (
    ActiveJobExists,
    Database,
    InvalidJobInput,
    Job,
    JobExportData,
    JobNotFound,
    JobScanData,
    JobService,
    JobStatus,
    JobType,
    LibraryNotFound,
    ListJobsOptions,
    UnknownJobType,
)
from shisho_jobs.outbox import EVENT_CREATED, EVENT_PROGRESS, EVENT_STATUS_CHANGED
from shisho_jobs.schema import JobEventRow, JobRow, utcnow

SCAN = JobType.SCAN.value
EXPORT = JobType.EXPORT.value


def _job_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(JobRow)) or 0)


def _events(database: Database, job_id: int) -> list[str]:
    with database.read() as session:
        query = sa.select(JobEventRow.event).where(JobEventRow.job_id == job_id)
        return list(session.scalars(query.order_by(JobEventRow.id)))


# --- the seed's seven Task-4 tests, ported ---------------------------------------------------


def test_has_active_job_with_library_id_no_jobs(service: JobService) -> None:
    assert service.has_active_job(SCAN, 1) is False


def test_has_active_job_with_library_id_matching_library(service: JobService) -> None:
    service.create_job(SCAN, JobScanData(), library_id=1)

    assert service.has_active_job(SCAN, 1) is True


def test_has_active_job_with_library_id_different_library(service: JobService) -> None:
    service.create_job(SCAN, JobScanData(), library_id=1)

    assert service.has_active_job(SCAN, 2) is False


def test_has_active_job_with_library_id_global_job_blocks(service: JobService) -> None:
    service.create_job(SCAN, JobScanData(), library_id=None)

    assert service.has_active_job(SCAN, 1) is True


def test_has_active_job_nil_library_id_checks_any(service: JobService) -> None:
    service.create_job(SCAN, JobScanData(), library_id=1)

    assert service.has_active_job(SCAN, None) is True


def test_list_jobs_filter_by_type(service: JobService) -> None:
    service.create_job(SCAN, JobScanData(), status=JobStatus.COMPLETED)
    service.create_job(EXPORT, JobExportData(), status=JobStatus.COMPLETED)

    jobs = service.list_jobs(ListJobsOptions(type=SCAN))

    assert [job.type for job in jobs] == [SCAN]


def test_list_jobs_filter_by_library_id_or_global(service: JobService) -> None:
    global_job = service.create_job(SCAN, JobScanData(), status=JobStatus.COMPLETED)
    library_1_job = service.create_job(
        SCAN, JobScanData(), library_id=1, status=JobStatus.COMPLETED
    )
    service.create_job(SCAN, JobScanData(), library_id=2, status=JobStatus.COMPLETED)

    jobs = service.list_jobs(ListJobsOptions(library_id_or_global=1))

    assert {job.id for job in jobs} == {global_job.id, library_1_job.id}


# --- start or join ----------------------------------------------------------------------------


def test_a_second_scan_of_a_library_joins_the_active_one(service: JobService) -> None:
    first, created_first = service.start_or_join(SCAN, library_id=1)
    second, created_second = service.start_or_join(SCAN, library_id=1)

    assert (created_first, created_second) == (True, False)
    assert second == first
    assert _job_count(service.database) == 1


def test_the_scope_rule_of_scans(service: JobService) -> None:
    library_1 = service.create_job(SCAN, library_id=1)
    service.create_job(SCAN, library_id=2)  # other libraries never block each other

    with pytest.raises(ActiveJobExists) as blocked_global:
        service.create_job(SCAN)  # any active scan blocks a global one
    assert blocked_global.value.job == library_1

    service.update_job(replace(library_1, status=JobStatus.COMPLETED), columns=["status"])
    with pytest.raises(ActiveJobExists):
        service.create_job(SCAN)  # library 2 is still active
    assert _job_count(service.database) == 2


def test_an_active_global_scan_blocks_every_library_scan(service: JobService) -> None:
    global_scan = service.create_job(SCAN)

    for library_id in (1, 2, 3):
        with pytest.raises(ActiveJobExists) as blocked:
            service.create_job(SCAN, library_id=library_id)
        assert blocked.value.job == global_scan
    assert service.create_job(EXPORT, library_id=1).status == JobStatus.PENDING  # not exclusive


def test_a_finished_scan_does_not_block(service: JobService) -> None:
    service.create_job(SCAN, library_id=1, status=JobStatus.FAILED)

    job, created = service.start_or_join(SCAN, library_id=1)

    assert created is True
    assert job.status == JobStatus.PENDING


# --- every filter combination, paging and total -----------------------------------------------


@dataclass(frozen=True)
class _Seed:
    type: str
    status: JobStatus
    library_id: int | None
    process_id: str | None = None


# Scans: at most one active per scope (libraries 1 and 2 active, no active global scan).
_DATASET = (
    _Seed(SCAN, JobStatus.COMPLETED, None),
    _Seed(SCAN, JobStatus.FAILED, 1, "worker-a"),
    _Seed(EXPORT, JobStatus.PENDING, None),
    _Seed(SCAN, JobStatus.COMPLETED, 2, "worker-b"),
    _Seed(EXPORT, JobStatus.IN_PROGRESS, 1, "worker-a"),
    _Seed(SCAN, JobStatus.COMPLETED, 1),
    _Seed(EXPORT, JobStatus.FAILED, 3, "worker-b"),
    _Seed(SCAN, JobStatus.FAILED, None, "worker-a"),
    _Seed(SCAN, JobStatus.PENDING, 1),
    _Seed(EXPORT, JobStatus.COMPLETED, 2),
    _Seed(SCAN, JobStatus.IN_PROGRESS, 2, "worker-b"),
    _Seed(EXPORT, JobStatus.PENDING, 1, "worker-a"),
    _Seed(SCAN, JobStatus.COMPLETED, 3, "worker-a"),
    _Seed(EXPORT, JobStatus.COMPLETED, None, "worker-b"),
)


def _create_dataset(service: JobService) -> list[Job]:
    jobs = []
    for seed in _DATASET:
        job = service.create_job(seed.type, library_id=seed.library_id, status=seed.status)
        if seed.process_id is not None:
            job = service.update_job(
                replace(job, process_id=seed.process_id), columns=["process_id"]
            )
        jobs.append(job)
    return jobs


_FILTERS: dict[str, list[tuple[Any, Callable[[Any, Job], bool]]]] = {
    "statuses": [
        (["pending", "in_progress"], lambda v, j: j.status in v),
        (["failed"], lambda v, j: j.status in v),
    ],
    "process_id_to_exclude": [("worker-a", lambda v, j: j.process_id != v)],
    "type": [(SCAN, lambda v, j: j.type == v), (EXPORT, lambda v, j: j.type == v)],
    "library_id_or_global": [
        (1, lambda v, j: j.library_id in (v, None)),
        (3, lambda v, j: j.library_id in (v, None)),
    ],
    "library_id": [(2, lambda v, j: j.library_id == v)],
    "visible_library_ids": [({1}, lambda v, j: j.library_id is None or j.library_id in v)],
}


def _combinations() -> list[dict[str, tuple[Any, Callable[[Any, Job], bool]]]]:
    names = list(_FILTERS)
    combos = []
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            for values in itertools.product(*(_FILTERS[name] for name in chosen)):
                combos.append(dict(zip(chosen, values, strict=True)))
    return combos


def _newest_first(jobs: list[Job]) -> list[int]:
    return [job.id for job in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)]


def test_every_filter_combination_lists_the_right_jobs_newest_first(service: JobService) -> None:
    jobs = _create_dataset(service)
    combos = _combinations()
    assert len(combos) > 100

    for combo in combos:
        options = ListJobsOptions(limit=100, **{name: value for name, (value, _) in combo.items()})
        expected = _newest_first(
            [job for job in jobs if all(match(value, job) for value, match in combo.values())]
        )

        listed, total = service.list_jobs_with_total(options)

        assert [job.id for job in listed] == expected, combo
        assert total == len(expected), combo
        assert [job.id for job in service.list_jobs(options)] == expected, combo


@pytest.mark.parametrize(
    "filters",
    [{}, {"type": SCAN}, {"library_id_or_global": 1}, {"type": SCAN, "library_id_or_global": 2}],
)
def test_pages_walk_the_whole_list_with_a_steady_total(
    service: JobService, filters: dict[str, Any]
) -> None:
    _create_dataset(service)
    everything, expected_total = service.list_jobs_with_total(ListJobsOptions(limit=100, **filters))

    walked: list[int] = []
    for offset in range(0, expected_total + 3, 3):
        page, total = service.list_jobs_with_total(
            ListJobsOptions(limit=3, offset=offset, **filters)
        )
        assert total == expected_total
        assert len(page) == min(3, max(0, expected_total - offset))
        walked += [job.id for job in page]

    assert walked == [job.id for job in everything]


def test_default_page_is_ten_newest(service: JobService) -> None:
    jobs = [service.create_job(EXPORT) for _ in range(12)]

    listed = service.list_jobs()

    assert [job.id for job in listed] == _newest_first(jobs)[:10]


def test_newest_first_breaks_equal_timestamps_by_id(service: JobService) -> None:
    jobs = [service.create_job(EXPORT, library_id=1) for _ in range(3)]
    with service.database.write() as session:
        session.execute(sa.update(JobRow).values(created_at=jobs[0].created_at))

    listed = service.list_jobs(ListJobsOptions(library_id_or_global=1))

    assert [job.id for job in listed] == sorted((job.id for job in jobs), reverse=True)


# --- payloads, JSON and reading ---------------------------------------------------------------


def test_typed_payloads_round_trip(service: JobService) -> None:
    scan = service.create_job(SCAN, JobScanData(force=True), library_id=2)
    from_mapping = service.create_job(EXPORT, {"format": "json"})
    default = service.create_job(EXPORT)

    assert service.retrieve_job(scan.id).data == JobScanData(force=True)
    assert service.retrieve_job(from_mapping.id).data == JobExportData(format="json")
    assert service.retrieve_job(default.id).data == JobExportData()
    assert service.retrieve_job(scan.id) == scan


def test_job_json_follows_the_contract(service: JobService) -> None:
    scan = service.create_job(SCAN, JobScanData(force=True), library_id=2)
    global_scan = service.create_job(SCAN, status=JobStatus.COMPLETED)

    scan_json = msgspec.json.decode(msgspec.json.encode(service.retrieve_job(scan.id)))
    global_json = msgspec.json.decode(msgspec.json.encode(service.retrieve_job(global_scan.id)))

    assert scan_json["type"] == "scan"
    assert scan_json["status"] == "pending"
    assert scan_json["data"] == {"force": True}
    assert scan_json["progress"] == 0
    assert scan_json["library_id"] == 2
    assert "process_id" not in scan_json
    assert "library_id" not in global_json
    assert global_json["progress"] == 100
    for stamp in (scan_json["created_at"], scan_json["updated_at"]):
        assert stamp.endswith(("Z", "+00:00"))


def test_retrieve_a_missing_job(service: JobService) -> None:
    for missing in (999, 0, -1):
        with pytest.raises(JobNotFound) as not_found:
            service.retrieve_job(missing)
        assert not_found.value.job_id == missing


def test_a_job_of_an_invisible_library_is_not_found(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=2)
    global_job = service.create_job(EXPORT)

    with pytest.raises(JobNotFound):
        service.retrieve_job(job.id, visible_library_ids={1})
    assert service.retrieve_job(global_job.id, visible_library_ids=set()) == global_job


# --- updating, logs, cleanup ------------------------------------------------------------------


def test_update_job_writes_columns_and_events(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=1)

    running = service.update_job(
        replace(job, status=JobStatus.IN_PROGRESS, process_id="w1"),
        columns=["status", "process_id"],
    )
    halfway = service.update_job(replace(running, progress=50), columns=["progress"])
    done = service.update_job(
        replace(halfway, status=JobStatus.COMPLETED, progress=100), columns=["status", "progress"]
    )

    assert service.retrieve_job(job.id) == done
    assert (done.status, done.progress, done.process_id) == (JobStatus.COMPLETED, 100, "w1")
    assert done.updated_at >= job.updated_at
    assert done.finished_at is not None
    assert _events(service.database, job.id) == [
        EVENT_CREATED,
        EVENT_STATUS_CHANGED,
        EVENT_PROGRESS,
        EVENT_STATUS_CHANGED,
    ]


def test_update_job_writes_only_the_named_columns(service: JobService) -> None:
    job = service.create_job(EXPORT)

    service.update_job(replace(job, progress=30, status=JobStatus.FAILED), columns=["progress"])

    stored = service.retrieve_job(job.id)
    assert (stored.progress, stored.status) == (30, JobStatus.PENDING)


@pytest.mark.parametrize(
    ("changes", "columns", "field"),
    [
        ({}, ["id"], "columns"),
        ({}, ["library_id"], "columns"),
        ({"progress": 101}, ["progress"], "progress"),
        ({"status": "done"}, ["status"], "status"),
        ({"data": {"force": "yes"}}, ["data"], "data.force"),
    ],
)
def test_update_job_refuses_bad_values(
    service: JobService, changes: dict[str, Any], columns: list[str], field: str
) -> None:
    job = service.create_job(SCAN, library_id=1)

    with pytest.raises(InvalidJobInput) as refused:
        service.update_job(replace(job, **changes), columns=columns)

    assert refused.value.field == field
    assert service.retrieve_job(job.id) == job
    assert _events(service.database, job.id) == [EVENT_CREATED]


def test_update_a_deleted_job(service: JobService) -> None:
    job = service.create_job(EXPORT, status=JobStatus.COMPLETED)
    service.cleanup_old_jobs(0)

    with pytest.raises(JobNotFound):
        service.update_job(replace(job, progress=10), columns=["progress"])


def test_logs_are_listed_oldest_first_and_filtered(service: JobService) -> None:
    job = service.create_job(SCAN, library_id=1)
    first = service.add_job_log(job.id, "info", "starting", data={"files": 3})
    service.add_job_log(job.id, "warn", "unreadable file", plugin="epub")
    third = service.add_job_log(job.id, "error", "boom", stack_trace="Traceback ...")

    assert [log.message for log in service.list_job_logs(job.id)] == [
        "starting",
        "unreadable file",
        "boom",
    ]
    assert service.list_job_logs(job.id)[0].data == {"files": 3}
    assert [log.id for log in service.list_job_logs(job.id, after_id=first.id)][-1] == third.id
    assert [log.level for log in service.list_job_logs(job.id, levels=["warn", "error"])] == [
        "warn",
        "error",
    ]
    with pytest.raises(JobNotFound):
        service.add_job_log(job.id + 100, "info", "nobody")
    with pytest.raises(InvalidJobInput) as bad_level:
        service.add_job_log(job.id, "loud", "x")
    assert bad_level.value.field == "level"


def _age(service: JobService, job: Job, days: float) -> None:
    """Pretend ``job`` was created, updated and (if finished) finished ``days`` ago."""
    past = utcnow() - timedelta(days=days)
    finished_at = past if job.status in (JobStatus.COMPLETED, JobStatus.FAILED) else None
    with service.database.write() as session:
        session.execute(
            sa.update(JobRow)
            .where(JobRow.id == job.id)
            .values(created_at=past, updated_at=past, finished_at=finished_at)
        )


def test_cleanup_old_jobs_deletes_old_finished_jobs_with_their_logs(service: JobService) -> None:
    old_completed = service.create_job(SCAN, library_id=1, status=JobStatus.COMPLETED)
    old_failed = service.create_job(EXPORT, status=JobStatus.FAILED)
    recent = service.create_job(SCAN, library_id=2, status=JobStatus.COMPLETED)
    old_pending = service.create_job(SCAN, library_id=3)
    old_running = service.create_job(EXPORT, status=JobStatus.IN_PROGRESS)
    for job in (old_completed, old_failed, old_pending, old_running):
        _age(service, job, days=40)
    service.add_job_log(old_completed.id, "info", "old line")
    service.add_job_log(old_pending.id, "info", "still waiting")

    deleted = service.cleanup_old_jobs(30)

    assert deleted == 2
    remaining = {job.id for job in service.list_jobs(ListJobsOptions(limit=100))}
    assert remaining == {recent.id, old_pending.id, old_running.id}
    assert service.list_job_logs(old_completed.id) == []
    assert _events(service.database, old_completed.id) == []
    assert [log.message for log in service.list_job_logs(old_pending.id)] == ["still waiting"]


def test_cleanup_refuses_a_negative_retention(service: JobService) -> None:
    with pytest.raises(InvalidJobInput) as refused:
        service.cleanup_old_jobs(-1)
    assert refused.value.field == "retention_days"


# --- bad input to the service: the field is named and nothing is written ----------------------


@pytest.mark.parametrize(
    ("arguments", "field", "error"),
    [
        ({"job_type": "bogus"}, "type", UnknownJobType),
        ({"job_type": SCAN, "library_id": 99}, "library_id", LibraryNotFound),
        ({"job_type": SCAN, "library_id": 0}, "library_id", InvalidJobInput),
        ({"job_type": SCAN, "library_id": "1"}, "library_id", InvalidJobInput),
        ({"job_type": SCAN, "library_id": True}, "library_id", InvalidJobInput),
        ({"job_type": SCAN, "data": {"force": "yes"}}, "data.force", InvalidJobInput),
        ({"job_type": SCAN, "data": {"surprise": 1}}, "data.surprise", InvalidJobInput),
        ({"job_type": SCAN, "data": [1, 2]}, "data", InvalidJobInput),
        ({"job_type": EXPORT, "data": {"format": "xml"}}, "data.format", InvalidJobInput),
        ({"job_type": SCAN, "status": "done"}, "status", InvalidJobInput),
    ],
)
def test_create_job_refuses_bad_input(
    service: JobService, arguments: dict[str, Any], field: str, error: type[Exception]
) -> None:
    with pytest.raises(InvalidJobInput) as refused:
        service.create_job(**arguments)

    assert isinstance(refused.value, error)
    assert refused.value.field == field
    assert field in str(refused.value)
    assert _job_count(service.database) == 0


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"statuses": ["done"]}, "statuses"),
        ({"statuses": "pending"}, "statuses"),
        ({"type": "bogus"}, "type"),
        ({"library_id_or_global": 0}, "library_id_or_global"),
        ({"library_id_or_global": "1"}, "library_id_or_global"),
    ],
)
def test_list_jobs_refuses_bad_options(
    service: JobService, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidJobInput) as refused:
        service.list_jobs_with_total(ListJobsOptions(**options))

    assert refused.value.field == field


def test_has_active_job_refuses_bad_input(service: JobService) -> None:
    with pytest.raises(UnknownJobType) as unknown:
        service.has_active_job("bogus", 1)
    assert unknown.value.field == "job_type"
    with pytest.raises(InvalidJobInput) as bad_id:
        service.has_active_job(SCAN, -4)
    assert bad_id.value.field == "library_id"


# --- the host's libraries foreign key ---------------------------------------------------------


def test_deleting_a_library_deletes_its_jobs_and_logs(service: JobService) -> None:
    doomed = service.create_job(SCAN, library_id=1)
    service.add_job_log(doomed.id, "info", "scanning")
    kept = service.create_job(SCAN, library_id=2)
    global_job = service.create_job(EXPORT)

    with service.database.write() as session:
        session.execute(sa.text("DELETE FROM libraries WHERE id = 1"))

    assert {job.id for job in service.list_jobs()} == {kept.id, global_job.id}
    assert service.list_job_logs(doomed.id) == []
    assert _events(service.database, doomed.id) == []


def test_a_job_cannot_point_at_a_missing_library_even_bypassing_the_service(
    database: Database,
) -> None:
    now = utcnow()
    with pytest.raises(sa.exc.IntegrityError), database.write() as session:
        session.add(
            JobRow(
                created_at=now, updated_at=now, type=SCAN, status="pending", data="{}", library_id=9
            )
        )
    assert _job_count(database) == 0


# --- totals kept by triggers ------------------------------------------------------------------

_TOTAL_OPTIONS = (
    ListJobsOptions(limit=100),
    ListJobsOptions(limit=100, type=SCAN),
    ListJobsOptions(limit=100, type=SCAN, library_id_or_global=1),
    ListJobsOptions(limit=100, type=SCAN, library_id_or_global=2),
    ListJobsOptions(limit=100, library_id_or_global=3),
    ListJobsOptions(limit=100, library_id=1),
    ListJobsOptions(limit=100, type=EXPORT, visible_library_ids={1}),
    ListJobsOptions(limit=100, type=SCAN, library_id_or_global=2, visible_library_ids={1}),
)


def _assert_totals_are_exact(service: JobService) -> None:
    for options in _TOTAL_OPTIONS:
        jobs, total = service.list_jobs_with_total(options)
        assert total == len(jobs), options


def test_totals_stay_exact_through_cleanup_cascades_and_raw_sql(service: JobService) -> None:
    for library_id in (1, 1, 2, 2, 3, None, None):
        service.create_job(SCAN, library_id=library_id, status=JobStatus.COMPLETED)
    old_export = service.create_job(EXPORT, library_id=1, status=JobStatus.FAILED)
    service.create_job(EXPORT, library_id=2)
    _assert_totals_are_exact(service)

    _age(service, old_export, days=90)
    assert service.cleanup_old_jobs(30) == 1
    _assert_totals_are_exact(service)

    with service.database.write() as session:
        session.execute(sa.text("DELETE FROM libraries WHERE id = 2"))
    _assert_totals_are_exact(service)

    # Writes that bypass the service are counted too: the triggers live in the database.
    with service.database.write() as session:
        session.execute(sa.update(JobRow).where(JobRow.library_id == 3).values(library_id=1))
        session.execute(sa.delete(JobRow).where(JobRow.library_id.is_(None)))
    _assert_totals_are_exact(service)
    assert service.list_jobs_with_total(ListJobsOptions(library_id_or_global=1))[1] == 3
