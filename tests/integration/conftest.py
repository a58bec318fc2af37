"""Fixtures of the modules that run jobs on a real worker thread with the handlers of
``truth_handlers`` and a :class:`~worker_support.RecordingHost`.

A module changes what differs by defining a fixture of the same name (a ``host`` that fails
some library, say); the rest of the set-up is the same everywhere, so it is written once here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pluggy
import pytest
from truth_handlers import TruthJobs, fast_worker, manager_of
from worker_support import RecordingHost

from shisho_jobs import Database, JobService, Worker

WORKER_STOP = 2.0  # seconds a test's worker gets to stop once the test is over


@pytest.fixture
def truth() -> Iterator[TruthJobs]:
    """The steerable job types; released after the test, so no handler outlives it."""
    handlers = TruthJobs()
    yield handlers
    handlers.release.set()


@pytest.fixture
def host() -> RecordingHost:
    """The host plugin: Books, Comics and Broken, each scanned without fault."""
    return RecordingHost()


@pytest.fixture
def manager(host: RecordingHost, truth: TruthJobs) -> pluggy.PluginManager:
    return manager_of(host, truth)


@pytest.fixture
def jobs(database: Database, manager: pluggy.PluginManager) -> JobService:
    return JobService(database, plugin_manager=manager)


@pytest.fixture
def worker(database: Database, manager: pluggy.PluginManager) -> Iterator[Worker]:
    """A fast worker running on a thread for the test."""
    worker = fast_worker(database, manager)
    worker.start()
    yield worker
    worker.stop(timeout=WORKER_STOP)
