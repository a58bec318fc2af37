"""The one place where errors become the jobs API's HTTP answers.

- the core's typed errors (:mod:`shisho_jobs.errors`): bad input 400, a missing job 404, an
  active scan or a finished job (cancel) 409 with the job, anything else 500 without internals;
- Litestar's ``ValidationException`` for parameters it parsed from the structs (see
  :mod:`shisho_resync_plugin.inputs`): the same 400 as the core's bad input, naming the field;
- a database that cannot be reached (SQLAlchemy's error for a refused or dropped
  connection), or live events held back by a long-open transaction: 503 with ``Retry-After``;
  any other database error 500 without internals.

Registered on the plugin's router only, so the host's own error pages are untouched.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import MediaType, Request, Response
from litestar.exceptions import ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from shisho_jobs.db import is_connection_lost
from shisho_jobs.dto import Job
from shisho_jobs.errors import (
    ActiveJobExists,
    InvalidJobInput,
    JobAlreadyFinished,
    JobNotFound,
    OutboxNotSettled,
    ShishoJobsError,
)
from shisho_jobs.visibility import shown_job
from shisho_resync_plugin.auth import visible_library_ids_of

DATABASE_UNREACHABLE = "The jobs database cannot be reached right now; try again in a moment."
RETRY_AFTER_SECONDS = 2


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Litestar's error shape: ``{"status_code": 403, "detail": "..."}``."""

    status_code: int
    detail: str
    extra: dict[str, Any] | None = None


class InvalidInputExtra(msgspec.Struct, kw_only=True):
    """``extra`` of a 400: the bad field, dotted (``limit``, ``data.force``, ``id``)."""

    field: str


class InvalidInputBody(msgspec.Struct, kw_only=True):
    """Answer to bad input: ``detail`` names the field, ``extra.field`` is its name."""

    status_code: int
    detail: str
    extra: InvalidInputExtra


class ConflictExtra(msgspec.Struct, kw_only=True):
    """``extra`` of a 409: the active job that blocks the new one (join it)."""

    job: Job


class ConflictBody(msgspec.Struct, kw_only=True):
    """Answer when a scan is already pending or running for that scope."""

    status_code: int
    detail: str
    extra: ConflictExtra


def invalid_input_response(field: str, detail: str) -> Response[Any]:
    """A 400 whose ``detail`` and ``extra.field`` name the bad field."""
    body = InvalidInputBody(
        status_code=HTTP_400_BAD_REQUEST, detail=detail, extra=InvalidInputExtra(field=field)
    )
    return Response(body, status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.JSON)


def shisho_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Map a ``ShishoJobsError`` to its HTTP answer (400, 404 or 409: an active job that
    blocks the request, or a finished job that can no longer be cancelled), and a database
    that cannot be reached (restart, network blip) to 503.

    A 409 carries the active job as the caller may see it (the visibility rule: a reader of
    only some libraries gets a global job without its details or the worker's name).
    """
    if is_connection_lost(error) or isinstance(error, OutboxNotSettled):
        # Retry-After: the pool reconnects on the next request once the database is back;
        # a transaction holding the events back ends sooner or later.
        detail = error.message if isinstance(error, OutboxNotSettled) else DATABASE_UNREACHABLE
        return Response(
            ErrorBody(status_code=HTTP_503_SERVICE_UNAVAILABLE, detail=detail),
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            media_type=MediaType.JSON,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(error, InvalidJobInput):
        return invalid_input_response(error.field, error.message)
    if isinstance(error, JobNotFound):
        return Response(
            ErrorBody(status_code=HTTP_404_NOT_FOUND, detail=error.message),
            status_code=HTTP_404_NOT_FOUND,
            media_type=MediaType.JSON,
        )
    if isinstance(error, ActiveJobExists | JobAlreadyFinished):
        return Response(
            ConflictBody(
                status_code=HTTP_409_CONFLICT,
                detail=error.message,
                extra=ConflictExtra(job=shown_job(error.job, visible_library_ids_of(request))),
            ),
            status_code=HTTP_409_CONFLICT,
            media_type=MediaType.JSON,
        )
    # Any other core error is a server fault; say so without leaking internals.
    return Response(
        ErrorBody(status_code=HTTP_500_INTERNAL_SERVER_ERROR, detail="Internal Server Error"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )


def validation_error_handler(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Map Litestar's failed parameter or body validation to the 400 naming the field."""
    assert isinstance(error, ValidationException)
    field, reason = _first_problem(error)
    return invalid_input_response(field, f"Invalid `{field}`: {reason}")


def _first_problem(error: ValidationException) -> tuple[str, str]:
    """The field and reason of the first problem Litestar lists in ``extra``.

    Each entry is ``{"key": <parameter>, "message": <reason>, "source": "query"|"path"|...}``;
    a missing or undecodable body is reported under the handler's ``data`` parameter, which
    clients know as the body.
    """
    problems = error.extra if isinstance(error.extra, list) else []
    for problem in problems:
        if isinstance(problem, dict) and problem.get("key"):
            key = str(problem["key"])
            field = "body" if problem.get("source") == "body" else key
            message = str(problem.get("message") or "is not valid")
            if message == repr(key):  # a missing value is reported by its KeyError: "'data'"
                message = "is required"
            return field, message
    return "body", error.detail or "is not valid"


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ShishoJobsError: shisho_error_handler,
    sa.exc.DBAPIError: shisho_error_handler,
    ValidationException: validation_error_handler,
}
"""Router-level handlers: only the plugin's routes are affected, never the host's."""
