"""Checking values given to shisho_jobs: every failure is an :class:`InvalidJobInput` that
names the field.

Structured input (bodies, queries, payloads) is checked by msgspec against the structs
that describe it (:func:`convert`, :func:`decode_json`); the few scalar arguments of the
Python API are checked by the ``require_*`` functions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec

from shisho_jobs.enums import JobStatus, LogLevel
from shisho_jobs.errors import InvalidJobInput
from shisho_jobs.schema import MAX_ID

T = TypeVar("T")

Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID, description="A row id (1 to 2^31-1).")]

_PATH = re.compile(r"at `\$\.?([^`]*)`")
_NAMED = re.compile(r"field `([^`]+)`")


def field_of(error: msgspec.ValidationError, prefix: str = "") -> str:
    """The dotted name of the field a msgspec validation error is about."""
    text = str(error)
    path = ""
    if match := _PATH.search(text):
        path = match.group(1).replace("[", ".").replace("]", "")
    if named := _NAMED.search(text):
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    field = ".".join(part for part in (prefix, path) if part)
    return field or prefix or "body"


def reason_of(error: msgspec.ValidationError) -> str:
    """The message of a msgspec validation error without its ``- at `$...``` suffix."""
    return _PATH.sub("", str(error)).rstrip(" -")


def convert(value: Any, type_: type[T], *, prefix: str = "") -> T:
    """Validate ``value`` as ``type_``; raise :class:`InvalidJobInput` naming the bad field."""
    try:
        return msgspec.convert(value, type_, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidJobInput(field_of(error, prefix), reason_of(error)) from None


def decode_json(body: bytes, type_: type[T], *, prefix: str = "") -> T:
    """Decode and validate a JSON document as ``type_``; raise :class:`InvalidJobInput`."""
    try:
        return msgspec.json.decode(body, type=type_, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidJobInput(field_of(error, prefix), reason_of(error)) from None
    except msgspec.DecodeError as error:
        raise InvalidJobInput(prefix or "body", f"not valid JSON ({error})") from None


def require_id(value: object, field: str) -> int:
    """``value`` as a row id (1 to 2^31-1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidJobInput(field, f"expected an integer id, got {type(value).__name__}")
    if not 1 <= value <= MAX_ID:
        raise InvalidJobInput(field, f"must be between 1 and {MAX_ID}")
    return value


def require_status(value: object, field: str) -> JobStatus:
    """``value`` as a :class:`JobStatus`."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return JobStatus(value)
    except ValueError:
        raise InvalidJobInput(
            field, f"unknown status {value!r}; expected one of {[s.value for s in JobStatus]}"
        ) from None


def require_level(value: object) -> str:
    """``value`` as a log level's name (field ``level``)."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return LogLevel(value).value
    except ValueError:
        raise InvalidJobInput(
            "level", f"unknown level {value!r}; expected one of {[lv.value for lv in LogLevel]}"
        ) from None


def require_progress(value: object) -> int:
    """``value`` as a percentage, 0 to 100 (field ``progress``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidJobInput("progress", "must be an integer from 0 to 100")
    return value
