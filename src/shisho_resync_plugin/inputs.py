"""How requests become the core's typed inputs: Litestar parses and documents them from the
msgspec structs, so the OpenAPI schema describes exactly what the routes accept.

- Query strings: :func:`query_dependency` turns a struct (``ListJobsQuery``, :class:`LogsQuery`,
  :class:`EventsQuery`) into a ``Provide`` whose parameters are the struct's fields, with the
  constraints of their ``msgspec.Meta`` (Litestar drops a bare ``Meta`` from parameter types,
  so the constraints are handed to it as ``QueryParameter`` settings). Unknown parameters and
  repeated single-valued ones are refused, as the struct's ``forbid_unknown_fields`` would.
- Bodies: :class:`StrictJsonBody` decodes the body straight into its struct with msgspec's
  strict JSON rules. Litestar's own body parsing converts leniently (the string ``"1"`` becomes
  the integer ``1``), which the contract forbids.
- Path ids and the ``Last-Event-ID`` header: digits only, checked by :func:`row_id`.

Every bad value ends as a 400 naming its field (see :mod:`shisho_resync_plugin.errors`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Generator
from typing import Annotated, Any, ClassVar, Final, TypeVar

import msgspec
from litestar import Request
from litestar.di import Provide
from litestar.dto import AbstractDTO, DTOConfig, DTOFieldDefinition
from litestar.dto._backend import DTOBackend
from litestar.openapi.spec import Reference, Schema
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.typing import FieldDefinition

from shisho_jobs.enums import LogLevel
from shisho_jobs.errors import InvalidJobInput
from shisho_jobs.schema import MAX_ID
from shisho_jobs.validation import Id, decode_json

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")

MAX_LOGS_LIMIT: Final = 1000
ID_PATTERN: Final = r"^[0-9]{1,12}$"
"""A row id as text: digits only (the range is checked after, see :func:`row_id`)."""
_DIGITS: Final = re.compile(ID_PATTERN)
_JSON_MEDIA_TYPE: Final = re.compile(r"application/([a-z0-9.+-]+\+)?json", re.IGNORECASE)


class LogsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs/{id}/logs``."""

    after_id: (
        Annotated[int, msgspec.Meta(ge=0, le=MAX_ID, description="Only lines with a larger id.")]
        | None
    ) = None
    level: Annotated[
        tuple[LogLevel, ...], msgspec.Meta(description="Only lines of these levels (repeatable).")
    ] = ()
    limit: (
        Annotated[
            int, msgspec.Meta(ge=1, le=MAX_LOGS_LIMIT, description="At most this many lines.")
        ]
        | None
    ) = None


class EventsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Query of ``GET /api/jobs/events``."""

    library_id: (
        Annotated[Id, msgspec.Meta(description="Only this library's jobs and global jobs.")] | None
    ) = None


# --- query strings ---------------------------------------------------------------------------


def query_dependency(
    struct: type[S], derive: Callable[[S, Request[Any, Any, Any]], Any]
) -> Provide:
    """A dependency whose value is what a route makes of its query string.

    Litestar parses each field of ``struct`` as a query parameter (a repeatable one for a
    tuple or list field) and documents it in the OpenAPI schema with the field's type,
    default, constraints and description. The dependency's value is
    ``derive(query, request)``.

    Raises:
        TypeError: a field has a constraint Litestar cannot be given (a programming error,
            found when the app is built rather than by a request slipping through).
    """
    fields = msgspec.structs.fields(struct)
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        # The request, not the reserved ``query``: Litestar would convert that MultiDict again.
        inspect.Parameter("request", keyword, annotation=Request[Any, Any, Any]),
    ]
    repeatable: set[str] = set()
    for field, described in zip(fields, info.fields, strict=True):
        settings = _parameter_settings(described.type)
        if _is_sequence(described.type):
            repeatable.add(field.name)
        default = (
            field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
        )
        annotation = Annotated[field.type, QueryParameter(name=field.name, **settings)]  # type: ignore[name-defined]
        parameters.append(
            inspect.Parameter(field.name, keyword, annotation=annotation, default=default)
        )
    names = frozenset(field.name for field in fields)

    def from_query(request: Request[Any, Any, Any], **values: Any) -> Any:
        query = request.query_params
        for key in query:
            if key not in names:
                raise InvalidJobInput(key, "is not a parameter of this route")
            if key not in repeatable and len(query.getall(key)) > 1:
                raise InvalidJobInput(key, "given more than once")
        return derive(struct(**values), request)

    from_query.__name__ = f"{struct.__name__}_from_query"
    # Litestar reads the parameters from the signature and the types from the annotations.
    from_query.__dict__["__signature__"] = inspect.Signature(parameters)
    from_query.__annotations__ = {p.name: p.annotation for p in parameters}
    return Provide(from_query, sync_to_thread=False)


_NUMBER_LIMITS: Final = ("gt", "ge", "lt", "le", "multiple_of")


def _parameter_settings(described: msgspec.inspect.Type) -> dict[str, Any]:
    """``QueryParameter`` keyword arguments for the constraints and docs of a field's type."""
    settings: dict[str, Any] = {}
    if isinstance(described, msgspec.inspect.Metadata):
        # msgspec keeps a Meta's description and title as JSON schema entries.
        documented = dict(described.extra_json_schema or {})
        for name in ("description", "title"):
            if name in documented:
                settings[name] = documented.pop(name)
        if documented:
            raise TypeError(f"no query parameter can document {sorted(documented)}")
        return settings | _parameter_settings(described.type)
    if isinstance(described, msgspec.inspect.UnionType):
        for member in described.types:
            if not isinstance(member, msgspec.inspect.NoneType):
                settings |= _parameter_settings(member)
        return settings
    if isinstance(described, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        for name in _NUMBER_LIMITS:
            if (value := getattr(described, name)) is not None:
                settings[name] = value
        return settings
    if isinstance(described, msgspec.inspect.StrType):
        for name in ("min_length", "max_length", "pattern"):
            if (value := getattr(described, name)) is not None:
                settings[name] = value
        return settings
    if _is_sequence(described):
        for name, litestar_name in (("min_length", "min_items"), ("max_length", "max_items")):
            if (value := getattr(described, name)) is not None:
                settings[litestar_name] = value
        return settings
    if isinstance(described, msgspec.inspect.EnumType | msgspec.inspect.BoolType):
        return settings
    raise TypeError(f"no query parameter can be made from {described}")


def _is_sequence(described: msgspec.inspect.Type) -> bool:
    if isinstance(described, msgspec.inspect.Metadata):
        return _is_sequence(described.type)
    return isinstance(
        described,
        msgspec.inspect.ListType | msgspec.inspect.VarTupleType | msgspec.inspect.SetType,
    )


# --- bodies ----------------------------------------------------------------------------------


class StrictJsonBody(AbstractDTO[T]):
    """Decodes a JSON body into its struct with msgspec's strict rules; documents it from it.

    Use as ``dto=StrictJsonBody[CreateJobPayload], return_dto=None`` on a handler with
    ``data: CreateJobPayload``. Only ``application/json`` (and ``+json``) bodies are read.
    """

    config: ClassVar[DTOConfig] = DTOConfig()

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        """None: the body is decoded into the struct itself, never a transfer model."""
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        """Never asked for: no transfer model is built."""
        return False

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: type[DTOBackend] | None = None,
    ) -> None:
        """Nothing to prepare: decoding needs only the struct."""

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        """The struct's own schema (fields, types, constraints, descriptions).

        Litestar's schema of a struct leaves out ``forbid_unknown_fields``; the decoder refuses
        unknown fields, so the schema says ``additionalProperties: false``.
        """
        field = FieldDefinition.from_annotation(cls.model_type)
        schema: Reference | Schema = schema_creator.for_field_definition(field)
        info = msgspec.inspect.type_info(cls.model_type)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            component = (
                schema_creator.schema_registry.from_reference(schema).schema
                if isinstance(schema, Reference)
                else schema
            )
            component.additional_properties = False
        return schema

    def decode_bytes(self, value: bytes) -> T:
        """The body as the struct.

        Raises:
            InvalidJobInput: not declared as JSON (field ``Content-Type``), not JSON, too
                deeply nested (field ``body``), or a bad field (named).
        """
        content_type = self.asgi_connection.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip()
        if not _JSON_MEDIA_TYPE.fullmatch(media_type):
            raise InvalidJobInput(
                "Content-Type", f"must be application/json, got {media_type[:60] or 'nothing'!r}"
            )
        try:
            decoded: T = decode_json(value, self.model_type)
        except RecursionError:
            raise InvalidJobInput("body", "nested too deeply") from None
        return decoded

    def decode_builtins(self, value: dict[str, Any]) -> T:
        """Form bodies are not accepted: only JSON."""
        raise InvalidJobInput("Content-Type", "must be application/json")


# --- path ids and headers --------------------------------------------------------------------


def row_id(raw: str, field: str) -> int:
    """A row id from text: digits only, 1 to 2^31-1.

    Raises:
        InvalidJobInput: anything else (names ``field``).
    """
    if not _DIGITS.fullmatch(raw):
        raise InvalidJobInput(field, f"must be a positive integer, got {raw[:40]!r}")
    value = int(raw)
    if not 1 <= value <= MAX_ID:
        raise InvalidJobInput(field, f"must be between 1 and {MAX_ID}")
    return value


def last_event_id(raw: str | None) -> int | None:
    """The ``Last-Event-ID`` header: an event id, or ``None`` when absent or empty."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) > MAX_ID:
        raise InvalidJobInput("Last-Event-ID", f"must be an event id, got {text[:40]!r}")
    return int(text)


JobIdPath = Annotated[
    str,
    PathParameter(
        description=f"The job's id: a positive integer, at most {MAX_ID}.", pattern=ID_PATTERN
    ),
]
"""The ``{job_id}`` path segment: documented and checked for digits by Litestar; its range by
:func:`row_id`."""

LastEventIdHeader = Annotated[
    str | None,
    HeaderParameter(
        name="last-event-id",
        required=False,
        description="The id of the last event a reconnecting client received: the stream "
        "resumes after it (or starts with a snapshot when those events are no longer kept).",
    ),
]
