"""``hold_claim``: a handler's own writes commit only while its run still owns the job."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from polling import wait_until
from shisho_jobs import Database, JobService, get_plugin_manager
from shisho_jobs.errors import LeaseLost
from shisho_jobs.plugins import job_type_registry
from shisho_jobs.worker.store import Claim, ClaimRequest, WorkerStore


@pytest.fixture
def store(database: Database) -> WorkerStore:
    return WorkerStore(database, job_type_registry(get_plugin_manager(load_entry_points=False)))


def _write_a_host_row(database: Database, store: WorkerStore, claim: Claim, name: str) -> None:
    """What a scanner does: its own row, in its own transaction, under the claim."""
    with database.write() as session:
        if not store.hold_claim(session.connection(), claim):
            raise LeaseLost()
        session.execute(
            sa.text("INSERT INTO libraries (id, name) VALUES (99, :name)"), {"name": name}
        )


def _host_rows(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.execute(sa.text("SELECT name FROM libraries WHERE id = 99")).scalars())


def test_the_owner_writes_and_a_run_that_lost_its_job_writes_nothing(
    database: Database, service: JobService, store: WorkerStore
) -> None:
    service.create_job("scan", library_id=1)
    claimed = store.claim_next(ClaimRequest("cut-off-worker", lease_seconds=0.001))
    assert claimed is not None
    claim = Claim.of(claimed)
    wait_until(lambda: store.rescue_expired(lease_seconds=0.001), timeout=5, what="the rescue")
    newer = store.claim_next(ClaimRequest("new-owner", lease_seconds=60))
    assert newer is not None

    with pytest.raises(LeaseLost):
        _write_a_host_row(database, store, claim, "from the lost run")
    assert _host_rows(database) == []

    _write_a_host_row(database, store, Claim.of(newer), "from the owner")
    assert _host_rows(database) == ["from the owner"]


def test_no_rescue_takes_the_job_while_the_owner_writes(
    database: Database, service: JobService, store: WorkerStore
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("SQLite's write transaction holds the database's lock: no rescue can run")
    service.create_job("scan", library_id=1)
    claimed = store.claim_next(ClaimRequest("slow-writer", lease_seconds=0.001))
    assert claimed is not None

    with database.write() as session:
        assert store.hold_claim(session.connection(), Claim.of(claimed))
        # The lease has long expired, yet the row is held until this transaction ends.
        assert store.rescue_expired(lease_seconds=0.001) == []
    assert [job.id for job in store.rescue_expired(lease_seconds=0.001)] == [claimed.id]
