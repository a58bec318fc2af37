"""The job type registry: built-in types, payload validation, plugin types, duplicates."""

from __future__ import annotations

import msgspec
import pytest

from shisho_jobs import InvalidJobInput, JobExportData, JobScanData, UnknownJobType, hookimpl
from shisho_jobs.errors import DuplicateJobType
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.plugins import get_plugin_manager, job_type_registry
from shisho_jobs.registry import JobTypeRegistry


class ThumbnailData(msgspec.Struct, forbid_unknown_fields=True):
    size: int = 128


def _noop(_context: object) -> None:
    """A handler that does nothing."""


class ThumbnailPlugin:
    @hookimpl
    def job_types(self) -> list[JobTypeSpec]:
        return [JobTypeSpec(name="thumbnail", payload_type=ThumbnailData, handler=_noop)]


def test_builtin_types_are_registered_and_scans_are_exclusive() -> None:
    registry = job_type_registry(get_plugin_manager(load_entry_points=False))

    assert registry.names == ["export", "scan"]
    assert registry.get("scan").exclusive is True
    assert registry.get("export").exclusive is False


def test_a_plugin_adds_a_type() -> None:
    registry = job_type_registry(
        get_plugin_manager(load_entry_points=False, plugins=[ThumbnailPlugin()])
    )

    assert "thumbnail" in registry
    assert registry.validate_payload("thumbnail", {"size": 64}) == ThumbnailData(size=64)


def test_two_plugins_registering_one_name_is_an_error() -> None:
    spec = JobTypeSpec(name="scan", payload_type=JobScanData, handler=_noop, plugin="other")
    builtin = job_type_registry(get_plugin_manager(load_entry_points=False)).get("scan")

    with pytest.raises(DuplicateJobType, match="'scan'"):
        JobTypeRegistry([builtin, spec])


def test_unknown_type_names_the_type_field() -> None:
    registry = job_type_registry(get_plugin_manager(load_entry_points=False))

    with pytest.raises(UnknownJobType) as unknown:
        registry.get("rescan")

    assert unknown.value.field == "type"
    assert "rescan" in str(unknown.value)


def test_payloads_validate_from_structs_mappings_and_none() -> None:
    registry = job_type_registry(get_plugin_manager(load_entry_points=False))

    assert registry.validate_payload("scan", JobScanData(force=True)) == JobScanData(force=True)
    assert registry.validate_payload("scan", {"force": True}) == JobScanData(force=True)
    assert registry.validate_payload("export", {}) == JobExportData()
    with pytest.raises(InvalidJobInput) as wrong_struct:
        registry.validate_payload("scan", JobExportData())
    assert wrong_struct.value.field == "data"
    with pytest.raises(InvalidJobInput) as bad:
        registry.validate_payload("scan", {"force": 1})
    assert bad.value.field == "data.force"


def test_stored_payloads_decode_to_their_struct_or_stay_plain() -> None:
    registry = job_type_registry(get_plugin_manager(load_entry_points=False))
    stored = registry.encode_payload(JobScanData(force=True))

    assert stored == '{"force":true}'
    assert registry.decode_payload("scan", stored) == JobScanData(force=True)
    # An uninstalled plugin's job, or data an older version wrote, still reads.
    assert registry.decode_payload("gone", '{"a":1}') == {"a": 1}
    assert registry.decode_payload("scan", '{"force":"legacy"}') == {"force": "legacy"}
