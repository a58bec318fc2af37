"""Typed ``result`` values of the built-in job types, stored as JSON text in ``jobs.result``.

A handler's return value becomes its job's ``result``: the worker converts it to the
job type's ``JobTypeSpec.result_type`` (from a struct, a mapping, a dataclass or any
object with those attributes) and stores it when the job ends.
"""

from __future__ import annotations

import msgspec


class ScanResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a ``scan`` did. A global scan's counts are summed over its libraries
    (each library's own counts are in the job's log)."""

    files: int
    """Book files found."""
    added: int
    """Books new to the catalogue."""
    updated: int
    """Books whose file changed and was read again."""
    removed: int
    """Books whose file is gone (a cancelled or partial scan removes none)."""
    unchanged: int
    """Books whose file did not change."""
    warnings: int
    """Problems that did not fail the scan (unreadable files or folders): its ``warn`` lines."""

    def plus(self, other: ScanResult) -> ScanResult:
        """Both results' counts added up (a global scan sums its libraries this way)."""
        return ScanResult(
            files=self.files + other.files,
            added=self.added + other.added,
            updated=self.updated + other.updated,
            removed=self.removed + other.removed,
            unchanged=self.unchanged + other.unchanged,
            warnings=self.warnings + other.warnings,
        )
