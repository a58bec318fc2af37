"""The worker that runs jobs: ``shisho_jobs.Worker`` and the ``shisho-jobs worker`` command."""

from __future__ import annotations

from shisho_jobs.worker.worker import Worker

__all__ = ["Worker"]
