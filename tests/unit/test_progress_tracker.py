"""When a running job's progress is written: a new percent, work that moved, or a change to show."""

from __future__ import annotations

from typing import Any

from shisho_jobs.context import ProgressTracker
from shisho_jobs.enums import LogLevel


class RecordingSink:
    """Where the tracker writes (the worker's fenced writes, in production)."""

    def __init__(self) -> None:
        self.written: list[int] = []

    def write_log(
        self,
        *,
        level: LogLevel,
        message: str,
        data: dict[str, Any] | None,
        plugin: str | None,
        stack_trace: str | None,
    ) -> None:
        raise AssertionError("the tracker writes no log lines")

    def write_progress(self, percent: int) -> None:
        self.written.append(percent)


def test_a_new_percent_is_written_and_a_repeated_one_is_not() -> None:
    sink = RecordingSink()
    tracker = ProgressTracker(sink, min_interval=0, moved_interval=3600)

    for percent in (1, 1, 2, 2, 2):
        tracker.report(percent, fraction=percent / 100)

    assert sink.written == [1, 2]
    assert tracker.latest == 2


def test_work_that_moves_within_a_percent_is_written_so_it_never_looks_stalled() -> None:
    sink = RecordingSink()
    tracker = ProgressTracker(sink, min_interval=0, moved_interval=0)

    tracker.report(5, fraction=0.050)
    tracker.report(5, fraction=0.051)  # moved: written
    tracker.report(5, fraction=0.051)  # the same place: a stuck handler is not progress

    assert sink.written == [5, 5]


def test_a_change_to_show_is_written_with_the_next_report() -> None:
    sink = RecordingSink()
    tracker = ProgressTracker(sink, min_interval=0, moved_interval=3600)
    tracker.report(3, fraction=0.03)

    tracker.mark_changed()  # a warning was logged
    tracker.report(3, fraction=0.03)
    tracker.report(3, fraction=0.03)

    assert sink.written == [3, 3]


def test_writes_within_the_throttle_wait_except_the_final_hundred() -> None:
    sink = RecordingSink()
    tracker = ProgressTracker(sink, min_interval=3600, moved_interval=3600)

    for percent in (1, 2, 3, 100):
        tracker.report(percent, fraction=percent / 100)

    assert sink.written == [1, 100]
    assert tracker.latest == 100
