"""Typed ``data`` payloads of the built-in job types, stored as JSON text in ``jobs.data``."""

from __future__ import annotations

from typing import Literal

import msgspec


class JobScanData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Payload of a ``scan`` job. Which library is scanned is the job's ``library_id``."""

    force: bool = False
    """Re-read every file, even those whose size and modification time are unchanged."""


class JobExportData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Payload of an ``export`` job: writes the catalogue of the libraries in scope as JSON."""

    format: Literal["json"] = "json"
    """Output format. Only ``json`` for now."""
