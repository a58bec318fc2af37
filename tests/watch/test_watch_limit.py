"""The OS file watch limit reached: a warning, polling instead, and visible health.

The worker runs in a user namespace of its own whose inotify watch limit
(``/proc/sys/user/max_inotify_watches``) is 3, or whose instance limit
(``max_inotify_instances``) is 0, so the real limit is hit without touching the
machine's own (which other programs use).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from watch_support import scan_paths, scans

from shisho_jobs import JobService
from shisho_jobs.watch import WatchHealth

PROBE = Path(__file__).with_name("limit_probe.py")
WATCH_LIMIT = 3  # inotify watches in the probe's namespace; the library has 6 folders


# Each a limit of the namespace and its value: too few watches for the library's folders,
# or no inotify instance at all (watchfiles reports that one as its internal error).
LIMITS = {
    "watches": ("max_inotify_watches", WATCH_LIMIT),
    "instances": ("max_inotify_instances", 0),
}


def _in_namespace_with_watch_limit(command: list[str], limit: str = "watches") -> list[str]:
    name, value = LIMITS[limit]
    script = f'echo {value} > /proc/sys/user/{name} && exec "$@"'
    return ["unshare", "--user", "--map-root-user", "sh", "-c", script, "sh", *command]


@pytest.fixture
def namespaces() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(
        _in_namespace_with_watch_limit(["true"]), capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.strip()}")


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_the_watch_limit_falls_back_to_polling_with_a_warning(
    namespaces: None, service: JobService, tmp_path: Path, limit: str
) -> None:
    root = tmp_path / "Books"
    for author in ("Austen", "Bronte", "Dickens", "Eliot", "Hardy"):
        (root / author).mkdir(parents=True)
    url = service.database.engine.url
    url_text = url.render_as_string(hide_password=False) if isinstance(url, sa.URL) else str(url)
    finished = subprocess.run(
        _in_namespace_with_watch_limit([sys.executable, str(PROBE), url_text, str(root)], limit),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    health = msgspec.json.decode(finished.stdout, type=WatchHealth)
    assert health.state == "poll"
    assert health.error is not None
    assert "OS file watch limit" in health.error
    assert "Polling" in health.error
    assert "WARNING" in finished.stderr
    assert "OS file watch limit" in finished.stderr
    # Polling still finds the change.
    assert [scan_paths(job) for job in scans(service, 1)] == [["Austen/Persuasion.epub"]]
