"""Strict parsing of query strings, path ids and bodies into the core's DTOs.

Every bad value raises :class:`~shisho_jobs.errors.InvalidJobInput` naming its field, which
the plugin's exception handler turns into a 400. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.datastructures import MultiDict

from shisho_jobs.dto import CreateJobPayload, Id, ListJobsQuery, decode_json, field_of, reason_of
from shisho_jobs.enums import LogLevel
from shisho_jobs.errors import InvalidJobInput
from shisho_jobs.schema import MAX_ID

T = TypeVar("T")

MAX_LOGS_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]{1,12}")
_JSON_MEDIA_TYPE = re.compile(r"application/([a-z0-9.+-]+\+)?json", re.IGNORECASE)


class LogsQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs/{id}/logs``."""

    after_id: Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)] | None = None
    """Only lines with a larger id (to follow a running job)."""
    level: list[LogLevel] = msgspec.field(default_factory=list)
    """Only lines of these levels (repeatable)."""
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LOGS_LIMIT)] | None = None
    """At most this many lines."""


class EventsQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs/events``."""

    library_id: Id | None = None
    """Only this library's jobs and global jobs."""


LIST_FIELDS = frozenset({"status"})
LOG_LIST_FIELDS = frozenset({"level"})


def parse_query(params: MultiDict[Any], type_: type[T], *, list_fields: Collection[str] = ()) -> T:
    """The query string as ``type_``: scalars given once, ``list_fields`` repeatable.

    Raises:
        InvalidJobInput: an unknown or repeated parameter, or a bad value (names it).
    """
    values: dict[str, Any] = {}
    for key in dict.fromkeys(params.keys()):
        given = params.getall(key)
        if key in list_fields:
            values[key] = given
        elif len(given) > 1:
            raise InvalidJobInput(key, "given more than once")
        else:
            values[key] = given[0]
    try:
        # Lax mode turns query-string text into ints; ranges still apply.
        return msgspec.convert(values, type_, strict=False)
    except msgspec.ValidationError as error:
        # Query parameters are flat: `status.1` is the parameter `status`.
        raise InvalidJobInput(field_of(error).split(".", 1)[0], reason_of(error)) from None


def parse_list_query(params: MultiDict[Any]) -> ListJobsQuery:
    """Query of ``GET /api/jobs``."""
    return parse_query(params, ListJobsQuery, list_fields=LIST_FIELDS)


def parse_path_id(raw: str, field: str = "job_id") -> int:
    """A row id from a path segment: digits only, 1 to 2^31-1."""
    if not _DIGITS.fullmatch(raw):
        raise InvalidJobInput(field, f"must be a positive integer, got {raw[:40]!r}")
    value = int(raw)
    if not 1 <= value <= MAX_ID:
        raise InvalidJobInput(field, f"must be between 1 and {MAX_ID}")
    return value


def parse_last_event_id(raw: str | None) -> int | None:
    """The ``Last-Event-ID`` header: an event id, or ``None`` when absent or empty."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) > MAX_ID:
        raise InvalidJobInput("Last-Event-ID", f"must be an event id, got {text[:40]!r}")
    return int(text)


def parse_create_body(content_type: str, body: bytes) -> CreateJobPayload:
    """The body of ``POST /api/jobs``.

    Raises:
        InvalidJobInput: not declared as JSON (field ``Content-Type``), not JSON, too deeply
            nested, or a bad field (named).
    """
    media_type = content_type.split(";", 1)[0].strip()
    if not _JSON_MEDIA_TYPE.fullmatch(media_type):
        raise InvalidJobInput(
            "Content-Type", f"must be application/json, got {media_type[:60] or 'nothing'!r}"
        )
    try:
        return decode_json(body, CreateJobPayload)
    except RecursionError:
        raise InvalidJobInput("body", "nested too deeply") from None
