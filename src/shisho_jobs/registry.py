"""The job types known to a process, collected from the ``job_types`` hook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from shisho_jobs.errors import DuplicateJobType, InvalidJobInput, UnknownJobType
from shisho_jobs.hooktypes import JobTypeSpec
from shisho_jobs.validation import convert, field_of, reason_of


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

    def encode_result(self, name: str, value: Any) -> str | None:
        """A handler's return value as the JSON text stored in ``jobs.result``.

        Converted to the type's ``result_type`` when it has one (from that struct, a
        mapping, a dataclass or any object with its attributes); ``None`` stores nothing.

        Raises:
            InvalidJobInput: the value does not fit ``result_type`` (field ``result.<name>``),
                or cannot be written as JSON.
        """
        if value is None:
            return None
        spec = self._specs.get(name)
        result_type = spec.result_type if spec is not None else None
        if result_type is not None and not isinstance(value, result_type):
            try:
                value = msgspec.convert(value, result_type, from_attributes=True)
            except msgspec.ValidationError as error:
                raise InvalidJobInput(field_of(error, "result"), reason_of(error)) from None
        try:
            return msgspec.json.encode(value).decode()
        except (TypeError, msgspec.EncodeError) as error:
            raise InvalidJobInput("result", f"cannot be written as JSON ({error})") from None

    def decode_result(self, name: str, text: str | None) -> Any:
        """Stored ``jobs.result`` as its type's result struct (plain JSON if it no longer fits)."""
        if text is None:
            return None
        spec = self._specs.get(name)
        if spec is not None and spec.result_type is not None:
            try:
                return msgspec.json.decode(text, type=spec.result_type)
            except msgspec.ValidationError:
                pass
        return msgspec.json.decode(text)

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
