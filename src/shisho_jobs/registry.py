"""The job types known to a process, collected from the ``job_types`` hook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from shisho_jobs.errors import DuplicateJobType, InvalidJobInput, UnknownJobType
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.validation import convert


class JobTypeRegistry:
    """Job types by name: validates and decodes their payloads."""

    def __init__(self, specs: Iterable[JobTypeSpec]) -> None:
        self._specs: dict[str, JobTypeSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise DuplicateJobType(
                    f"job type {spec.name!r} is registered by both "
                    f"{self._specs[spec.name].plugin!r} and {spec.plugin!r}"
                )
            self._specs[spec.name] = spec

    @property
    def names(self) -> list[str]:
        """Registered type names, sorted."""
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> JobTypeSpec:
        """The spec of ``name``; raises :class:`UnknownJobType` naming the ``type`` field."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownJobType(name, self.names) from None

    def validate_payload(self, name: str, data: Any) -> msgspec.Struct:
        """``data`` (a struct of the right type or a mapping) as the type's payload struct.

        Raises:
            UnknownJobType: ``name`` is not registered.
            InvalidJobInput: ``data`` does not fit; the field is named ``data.<field>``.
        """
        spec = self.get(name)
        if isinstance(data, spec.payload_type):
            return data
        if isinstance(data, msgspec.Struct):
            # Another type's struct would pass as its built-ins (often ``{}``).
            raise InvalidJobInput(
                "data",
                f"expected {spec.payload_type.__name__} for a {name!r} job, "
                f"got {type(data).__name__}",
            )
        if data is None or not isinstance(data, Mapping):
            return convert(data, spec.payload_type, prefix="data")
        return convert(dict(data), spec.payload_type, prefix="data")

    def encode_payload(self, payload: msgspec.Struct) -> str:
        """The JSON text stored in ``jobs.data``."""
        return msgspec.json.encode(payload).decode()

    def decode_payload(self, name: str, text: str) -> Any:
        """Stored ``jobs.data`` as its type's struct; a plain dict for unknown types
        (a plugin that was uninstalled) or for data that no longer fits the struct."""
        spec = self._specs.get(name)
        if spec is not None:
            try:
                return msgspec.json.decode(text, type=spec.payload_type)
            except msgspec.ValidationError:
                pass
        return msgspec.json.decode(text)
