"""The watcher's rules without threads: ignored names, paths to scan, the debounce, settings."""

from __future__ import annotations

import pytest

from shisho_jobs.errors import InvalidSetting
from shisho_jobs.watch import WatchSettings
from shisho_jobs.watch.batch import ChangeBatch
from shisho_jobs.watch.ignore import is_ignored_path
from shisho_jobs.watch.paths import compact, covers, merge


@pytest.mark.parametrize(
    "path",
    [
        "@eaDir/cover.jpg",
        "a/@eaDir/x",
        ".DS_Store",
        "a/.hidden/b.epub",
        "#recycle/old.epub",
        "a/book.epub.part",
        "Book.CRDOWNLOAD",
        "a/Thumbs.db",
    ],
)
def test_hidden_system_and_unfinished_entries_are_ignored(path: str) -> None:
    assert is_ignored_path(path.split("/"))


@pytest.mark.parametrize("path", ["Author/Book.epub", "a/b/c.cbz", "part/x.epub", "@author.epub"])
def test_library_entries_are_watched(path: str) -> None:
    assert not is_ignored_path(path.split("/"))


def test_paths_inside_a_changed_folder_add_nothing() -> None:
    assert compact(["a/b.epub", "a", "c/d.epub", "c/e"]) == ["a", "c/d.epub", "c/e"]


def test_many_changes_in_one_folder_scan_that_folder() -> None:
    assert compact([f"Author/{i}.epub" for i in range(100)] + ["Other/x.epub"]) == [
        "Author",
        "Other/x.epub",
    ]


def test_a_change_of_the_library_folder_itself_scans_everything() -> None:
    assert compact([".", "a/b"]) is None
    assert compact([f"{i}.epub" for i in range(100)]) is None  # a crowded library folder


def test_too_many_paths_scan_everything() -> None:
    assert compact([f"d{i}/x/y.epub" for i in range(300)]) is None


def test_covers_and_merge() -> None:
    assert covers(["a"], ["a/b", "a"])
    assert not covers(["a"], ["ab"])
    assert covers(None, ["x"])
    assert not covers(["x"], None)
    assert merge(["a/b"], ["a", "c"]) == ["a", "c"]
    assert merge(["a"], None) is None


def test_the_batch_waits_for_the_quiet_window_after_the_last_change() -> None:
    batch = ChangeBatch(debounce=10, max_wait=100, settle=1)
    batch.record("a.epub", 5, now=0)
    batch.record("b.epub", 5, now=8)
    assert not batch.is_due(15)
    assert batch.is_due(18)
    flush = batch.take_settled(18, lambda _path: 5)
    assert flush is not None
    assert flush.paths == ["a.epub", "b.epub"]
    assert flush.quiet_for == 10
    assert len(batch) == 0


def test_changes_that_never_stop_are_scanned_at_the_cap() -> None:
    batch = ChangeBatch(debounce=10, max_wait=30, settle=1)
    for second in range(0, 31, 5):
        batch.record(f"{second}.epub", 1, now=second)
    assert batch.is_due(30)


def test_a_file_still_growing_waits_for_the_next_window() -> None:
    batch = ChangeBatch(debounce=10, max_wait=30, settle=1)
    batch.record("Author/done.epub", 100, now=0)
    batch.record("Author/copying.epub", 100, now=25)
    sizes = {"Author/done.epub": 100, "Author/copying.epub": 400}
    flush = batch.take_settled(40, sizes.get)
    assert flush is not None
    assert flush.paths == ["Author/done.epub"]
    assert len(batch) == 1
    assert not batch.is_due(45)  # a new window for the file in progress
    sizes["Author/copying.epub"] = 900
    assert batch.take_settled(50, sizes.get) is None  # still growing
    later = batch.take_settled(60, sizes.get)  # unchanged since the last look
    assert later is not None
    assert later.paths == ["Author/copying.epub"]


def test_a_folder_waits_while_a_file_below_it_is_being_written() -> None:
    batch = ChangeBatch(debounce=10, max_wait=30, settle=1)
    batch.record("New Author", None, now=0)
    batch.record("New Author/book.epub", 10, now=29.5)
    assert batch.is_due(30)
    assert batch.take_settled(30, lambda _path: 10) is None  # too young at the cap
    assert len(batch) == 2


def test_settings_from_the_environment() -> None:
    settings = WatchSettings.from_env(
        {
            "SHISHO_WATCH": "1",
            "SHISHO_WATCH_DEBOUNCE_SECONDS": "2",
            "SHISHO_WATCH_MAX_WAIT_SECONDS": "9",
        }
    )
    assert (settings.enabled, settings.debounce_seconds, settings.max_wait_seconds) == (True, 2, 9)
    assert WatchSettings.from_env({}) == WatchSettings()
    assert not WatchSettings.from_env({"SHISHO_WATCH": "0"}).enabled


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"SHISHO_WATCH": "maybe"}, "SHISHO_WATCH"),
        ({"SHISHO_WATCH_DEBOUNCE_SECONDS": "soon"}, "SHISHO_WATCH_DEBOUNCE_SECONDS"),
        ({"SHISHO_WATCH_DEBOUNCE_SECONDS": "-1"}, "SHISHO_WATCH_DEBOUNCE_SECONDS"),
        (
            {"SHISHO_WATCH_DEBOUNCE_SECONDS": "30", "SHISHO_WATCH_MAX_WAIT_SECONDS": "10"},
            "SHISHO_WATCH_MAX_WAIT_SECONDS",
        ),
        ({"SHISHO_WATCH_POLL_SECONDS": "0"}, "SHISHO_WATCH_POLL_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidSetting) as raised:
        WatchSettings.from_env(environ)
    assert raised.value.name == name
    assert name in str(raised.value)
