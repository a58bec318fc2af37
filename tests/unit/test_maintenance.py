"""The worker's maintenance schedule: each duty at its own interval, a failing one never stops
the others."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from shisho_jobs.worker.maintenance import Maintenance


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class CountingDuty:
    """A duty that counts its runs (and fails when asked to)."""

    name: str
    interval: float
    runs: int = 0
    fails: bool = False
    log: list[str] = field(default_factory=list)

    def run(self) -> None:
        self.runs += 1
        self.log.append(self.name)
        if self.fails:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("database is locked"))


def test_each_duty_runs_at_once_and_then_every_interval() -> None:
    clock = Clock()
    fast, slow = CountingDuty("fast", interval=1.0), CountingDuty("slow", interval=10.0)
    maintenance = Maintenance([fast, slow], clock=clock)

    maintenance.run_due()
    assert (fast.runs, slow.runs) == (1, 1)
    assert maintenance.seconds_until_next() == 1.0

    for _ in range(9):
        clock.now += 1.0
        maintenance.run_due()
    assert (fast.runs, slow.runs) == (10, 1)

    clock.now += 1.0
    maintenance.run_due()
    assert (fast.runs, slow.runs) == (11, 2)


def test_a_failing_duty_is_logged_and_the_next_duty_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log: list[str] = []
    broken = CountingDuty("broken", interval=5.0, fails=True, log=log)
    fine = CountingDuty("fine", interval=5.0, log=log)
    maintenance = Maintenance([broken, fine], clock=clock)

    maintenance.run_due()

    assert log == ["broken", "fine"]
    assert "database error in the broken duty" in caplog.text
    # Tried again after its interval, not at once.
    assert maintenance.seconds_until_next() == 5.0


def test_a_duty_added_later_is_due_at_once() -> None:
    clock = Clock()
    maintenance = Maintenance([CountingDuty("first", interval=60.0)], clock=clock)
    maintenance.run_due()
    added = CountingDuty("added", interval=60.0)

    maintenance.add(added)

    assert maintenance.seconds_until_next() == 0.0
    maintenance.run_due()
    assert added.runs == 1
    assert [duty.name for duty in maintenance.duties] == ["first", "added"]
