"""The watcher on real folders and a real database: what changes become which scans.

The scans are created through start-or-join on the real JobService (SQLite and
PostgreSQL); a scan is started and finished here the way a worker does it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from watch_support import (
    FAST,
    Libraries,
    finish,
    inotify_instances,
    library,
    running_watcher,
    scan_paths,
    scans,
    start,
    starter_for,
    wait_until,
    watch_threads,
    watched,
)

from shisho_jobs import JobService, JobStatus
from shisho_jobs.watch import WatchSettings, start_library_watcher


def _books(tmp_path: Path) -> Path:
    root = tmp_path / "Books"
    (root / "Austen").mkdir(parents=True)
    (root / "Austen" / "Emma.epub").write_bytes(b"emma")
    return root


def test_a_new_file_starts_one_scan_of_that_file(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    with running_watcher(service, Libraries(library(1, root))) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched by events")
        (root / "Austen" / "Persuasion.epub").write_bytes(b"persuasion")
        job = wait_until(lambda: scans(service, 1), what="a scan of library 1")[0]
    assert job.status == JobStatus.PENDING
    assert scan_paths(job) == ["Austen/Persuasion.epub"]
    assert len(scans(service)) == 1


def test_changed_deleted_and_moved_files_are_scanned(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    (root / "Bronte").mkdir()
    (root / "Bronte" / "Jane Eyre.epub").write_bytes(b"jane")
    (root / "Bronte" / "Villette.epub").write_bytes(b"villette")
    with running_watcher(service, Libraries(library(1, root))) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        (root / "Austen" / "Emma.epub").write_bytes(b"emma, second edition")
        (root / "Bronte" / "Villette.epub").unlink()
        (root / "Bronte" / "Jane Eyre.epub").rename(root / "Austen" / "Jane Eyre.epub")
        job = wait_until(lambda: scans(service, 1), what="a scan of library 1")[0]
    assert scan_paths(job) == [
        "Austen/Emma.epub",
        "Austen/Jane Eyre.epub",
        "Bronte/Jane Eyre.epub",
        "Bronte/Villette.epub",
    ]


def test_a_folder_moved_in_is_scanned_whole(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    outside = tmp_path / "Downloads" / "Dickens"
    (outside / "Bleak House").mkdir(parents=True)
    (outside / "Bleak House" / "Bleak House.epub").write_bytes(b"bleak")
    with running_watcher(service, Libraries(library(1, root))) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        folders_before = watcher.health()[0].folders
        shutil.move(outside, root / "Dickens")
        job = wait_until(lambda: scans(service, 1), what="a scan of library 1")[0]
        # The new folders are watched too: a change inside them is noticed.
        wait_until(
            lambda: watcher.health()[0].folders == folders_before + 2, what="new folders watched"
        )
        service.cancel_job(job.id) if hasattr(service, "cancel_job") else finish(
            service, start(service, job)
        )
        (root / "Dickens" / "Bleak House" / "notes.epub").write_bytes(b"notes")
        follow_up = wait_until(lambda: scans(service, 1)[1:], what="a scan of the new file")[0]
    assert scan_paths(job) == ["Dickens"]
    assert scan_paths(follow_up) == ["Dickens/Bleak House/notes.epub"]


def test_a_burst_of_files_makes_one_scan_of_their_folder(
    service: JobService, tmp_path: Path
) -> None:
    root = _books(tmp_path)
    settings = WatchSettings(debounce_seconds=1.0, max_wait_seconds=30, refresh_seconds=60)
    with running_watcher(service, Libraries(library(1, root)), settings) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        batch = root / "Collected"
        batch.mkdir()
        for number in range(300):
            (batch / f"{number:03}.epub").write_bytes(b"x" * number)
        wait_until(lambda: scans(service, 1), what="a scan of library 1")
        wait_until(
            lambda: watcher.health()[0].pending_changes == 0, what="every change handed over"
        )
    jobs = scans(service, 1)
    assert len(jobs) == 1
    assert scan_paths(jobs[0]) == ["Collected"]


def test_a_file_still_being_written_waits_until_it_is_complete(
    service: JobService, tmp_path: Path
) -> None:
    root = _books(tmp_path)
    # The cap (1.5 s) passes twice while the file grows; it is not handed over half-written.
    settings = WatchSettings(debounce_seconds=1.0, max_wait_seconds=1.5, refresh_seconds=60)
    written = threading.Event()

    def write_slowly(path: Path) -> None:
        with path.open("wb") as file:
            for _ in range(80):
                file.write(b"x" * 1000)
                file.flush()
                time.sleep(0.05)
        written.set()

    with running_watcher(service, Libraries(library(1, root)), settings) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        (root / "Austen" / "Sanditon.epub").write_bytes(b"ready")
        writer = threading.Thread(target=write_slowly, args=(root / "Austen" / "Big.epub",))
        writer.start()
        first = wait_until(lambda: scans(service, 1), what="the scan of the finished file")[0]
        assert not written.is_set(), "the machine was too slow for this test's timing"
        assert scan_paths(first) == ["Austen/Sanditon.epub"]
        finish(service, start(service, first))
        writer.join()
        follow_up = wait_until(lambda: scans(service, 1)[1:], what="the scan of the big file")[0]
    assert scan_paths(follow_up) == ["Austen/Big.epub"]
    assert (root / "Austen" / "Big.epub").stat().st_size == 80_000


def test_changes_during_a_scan_get_exactly_one_follow_up(
    service: JobService, tmp_path: Path
) -> None:
    root = _books(tmp_path)
    running, _ = service.start_or_join("scan", library_id=1)
    running = start(service, running)
    libraries = Libraries(library(1, root))
    # Two workers watch the same library.
    with (
        running_watcher(service, libraries) as first,
        running_watcher(service, libraries) as second,
    ):
        wait_until(lambda: watched(first, 1) and watched(second, 1), what="both watching")
        (root / "Austen" / "Lady Susan.epub").write_bytes(b"susan")
        wait_until(
            lambda: (
                first.health()[0].last_scan_job_id == running.id
                and second.health()[0].last_scan_job_id == running.id
            ),
            what="both handed the change to the running scan",
        )
        assert [job.id for job in scans(service, 1)] == [running.id]
        finish(service, running)
        follow_up = wait_until(lambda: scans(service, 1)[1:], what="the follow-up scan")[0]
        wait_until(
            lambda: all(
                h.pending_changes == 0 and h.last_scan_job_id == follow_up.id
                for h in (*first.health(), *second.health())
            ),
            what="both see the follow-up covers their changes",
        )
    assert [job.id for job in scans(service, 1)] == [running.id, follow_up.id]
    assert scan_paths(follow_up) == ["Austen/Lady Susan.epub"]


def test_two_workers_watching_one_library_make_one_scan(
    service: JobService, tmp_path: Path
) -> None:
    root = _books(tmp_path)
    libraries = Libraries(library(1, root))
    with (
        running_watcher(service, libraries) as first,
        running_watcher(service, libraries) as second,
    ):
        wait_until(lambda: watched(first, 1) and watched(second, 1), what="both watching")
        (root / "Austen" / "Northanger Abbey.epub").write_bytes(b"abbey")
        wait_until(
            lambda: all(h.last_scan_job_id for h in (*first.health(), *second.health())),
            what="both handed the change over",
        )
    jobs = scans(service, 1)
    assert len(jobs) == 1
    assert scan_paths(jobs[0]) == ["Austen/Northanger Abbey.epub"]


def test_a_pending_scan_takes_in_the_next_changes(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    with running_watcher(service, Libraries(library(1, root))) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        (root / "Austen" / "One.epub").write_bytes(b"1")
        pending = wait_until(lambda: scans(service, 1), what="a scan")[0]
        (root / "Austen" / "Two.epub").write_bytes(b"2")
        wait_until(
            lambda: (
                scan_paths(service.retrieve_job(pending.id))
                == ["Austen/One.epub", "Austen/Two.epub"]
            ),
            what="the second file merged into the pending scan",
        )
    assert len(scans(service, 1)) == 1


def test_a_library_added_while_running_is_watched(service: JobService, tmp_path: Path) -> None:
    books = _books(tmp_path)
    comics = tmp_path / "Comics"
    comics.mkdir()
    libraries = Libraries(library(1, books))
    with running_watcher(service, libraries) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        libraries.items.append(library(2, comics))
        watcher.refresh()
        wait_until(lambda: watched(watcher, 2), what="library 2 watched")
        (comics / "Tintin.cbz").write_bytes(b"tintin")
        job = wait_until(lambda: scans(service, 2), what="a scan of library 2")[0]
        libraries.items.pop(0)
        watcher.refresh()
        wait_until(
            lambda: [h.library_id for h in watcher.health()] == [2], what="library 1 dropped"
        )
    assert scan_paths(job) == ["Tintin.cbz"]
    assert scans(service, 1) == []


def test_hidden_system_and_partial_files_start_no_scan(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    (root / "@eaDir").mkdir()
    with running_watcher(service, Libraries(library(1, root))) as watcher:
        wait_until(lambda: watched(watcher, 1), what="library 1 watched")
        assert watcher.health()[0].folders == 2  # the library and Austen, not @eaDir
        (root / "@eaDir" / "Emma.epub@SynoEAStream").write_bytes(b"x")
        (root / ".DS_Store").write_bytes(b"x")
        (root / "Austen" / "Mansfield Park.epub.part").write_bytes(b"half")
        (root / "#recycle").mkdir()
        (root / "#recycle" / "old.epub").write_bytes(b"old")
        # The same change under a real name shows the watcher was listening all along.
        (root / "Austen" / "Mansfield Park.epub.part").rename(
            root / "Austen" / "Mansfield Park.epub"
        )
        job = wait_until(lambda: scans(service, 1), what="the scan of the finished download")[0]
    assert scan_paths(job) == ["Austen/Mansfield Park.epub"]


def test_polling_mode_finds_changes_without_events(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    with running_watcher(service, Libraries(library(1, root, watch="poll"))) as watcher:
        wait_until(lambda: watched(watcher, 1, "poll"), what="library 1 polled")
        (root / "Austen" / "Persuasion.epub").write_bytes(b"persuasion")
        job = wait_until(lambda: scans(service, 1), what="a scan of library 1")[0]
    assert scan_paths(job) == ["Austen/Persuasion.epub"]


def test_watch_off_starts_no_watcher(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    before = inotify_instances()
    with running_watcher(service, Libraries(library(1, root, watch="off"))) as watcher:
        wait_until(lambda: "shisho-watcher" in watch_threads(), what="the watcher's own thread")
        (root / "Austen" / "Persuasion.epub").write_bytes(b"persuasion")
        time.sleep(FAST.debounce_seconds * 3)  # nothing to poll for: nothing must happen
        assert watcher.health() == []
        assert watch_threads() == ["shisho-watcher"]
        assert inotify_instances() == before
    assert scans(service) == []


def test_shisho_watch_0_starts_nothing_at_all(service: JobService, tmp_path: Path) -> None:
    root = _books(tmp_path)
    before = inotify_instances()
    watcher = start_library_watcher(
        list_libraries=Libraries(library(1, root)),
        starter=starter_for(service),
        settings=WatchSettings.from_env({"SHISHO_WATCH": "0"}),
    )
    assert watcher is None
    assert watch_threads() == []
    assert inotify_instances() == before


def test_a_missing_folder_is_reported_once_and_watched_once_it_appears(
    service: JobService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "gone"
    settings = WatchSettings(debounce_seconds=0.3, max_wait_seconds=3, refresh_seconds=0.2)
    caplog.set_level(logging.INFO, logger="shisho_jobs.watch")
    with running_watcher(service, Libraries(library(3, folder)), settings) as watcher:
        health = wait_until(
            lambda: [h for h in watcher.health() if h.state == "failed"], what="the failure shown"
        )[0]
        assert health.error is not None
        assert str(folder) in health.error
        time.sleep(settings.refresh_seconds * 5)  # several re-reads of the library list
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert str(folder) in warnings[0].getMessage()
        folder.mkdir()
        wait_until(lambda: watched(watcher, 3), what="the folder watched once it exists")
