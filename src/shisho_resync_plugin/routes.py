"""The jobs API of CONTRACT section 4, as a Litestar router built for one plugin instance.

Handlers are async and hand every blocking step (the host's ``actor_access`` hook, the
database) to a worker thread in one hop, so the event loop never waits on SQL.
Order of checks: 401 (nobody signed in), 403 (permission), 400 (bad input), then the
library checks and the database.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_201_CREATED

from shisho_jobs.dto import Job, ListJobLogsResponse, ListJobsResponse
from shisho_jobs.schema import MAX_ID
from shisho_jobs.service import ListJobsOptions
from shisho_resync_plugin.auth import Caller, authenticate
from shisho_resync_plugin.errors import (
    EXCEPTION_HANDLERS,
    ConflictBody,
    ErrorBody,
    InvalidInputBody,
)
from shisho_resync_plugin.events import EventFilter
from shisho_resync_plugin.params import (
    LOG_LIST_FIELDS,
    EventsQuery,
    LogsQuery,
    parse_create_body,
    parse_last_event_id,
    parse_list_query,
    parse_path_id,
    parse_query,
)
from shisho_resync_plugin.runtime import ResyncRuntime
from shisho_resync_plugin.stream import event_stream, plan_resume

ROUTE_CREATE = "shisho_jobs:create"
ROUTE_LIST = "shisho_jobs:list"
ROUTE_RETRIEVE = "shisho_jobs:retrieve"
ROUTE_LOGS = "shisho_jobs:logs"
ROUTE_EVENTS = "shisho_jobs:events"

_BAD_INPUT = ResponseSpec(InvalidInputBody, description="Bad input; `detail` names the field.")
_UNAUTHENTICATED = ResponseSpec(ErrorBody, description="Nobody is signed in.")
_FORBIDDEN = ResponseSpec(ErrorBody, description="Missing permission.")
_NOT_FOUND = ResponseSpec(ErrorBody, description="No such job, or not visible to the user.")
_READ_ERRORS = {400: _BAD_INPUT, 401: _UNAUTHENTICATED, 403: _FORBIDDEN}

_JOB_ID_DOC = "The job's id (a positive integer)."


@dataclass
class _CreateJobOperation(Operation):
    """Documents the JSON body, which the handler reads and validates itself."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The job to create. `library_id` absent or null: a global job.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["type", "data"],
                        properties={
                            "type": Schema(type=OpenAPIType.STRING, examples=["scan"]),
                            "data": Schema(type=OpenAPIType.OBJECT, examples=[{}]),
                            "library_id": Schema(
                                type=[OpenAPIType.INTEGER, OpenAPIType.NULL],
                                minimum=1,
                                maximum=MAX_ID,
                            ),
                        },
                    )
                )
            },
        )


RUNTIME_OPT = "shisho_resync"
"""Key of the :class:`ResyncRuntime` in the router's ``opt`` (seen by every route of it)."""


def _runtime_of(request: Request[Any, Any, Any]) -> ResyncRuntime:
    runtime: ResyncRuntime = request.route_handler.opt[RUNTIME_OPT]
    return runtime


def _caller(request: Request[Any, Any, Any], runtime: ResyncRuntime) -> Caller:
    return authenticate(request, runtime.plugin_manager)


@post(
    "/jobs",
    name=ROUTE_CREATE,
    status_code=HTTP_201_CREATED,
    summary="Start a job (start or join: 409 names the active scan)",
    description=(
        "Needs `jobs:write` and access to the library; a global job needs access to "
        "every library. Unsafe: send the CSRF token in `X-CSRFToken`."
    ),
    operation_class=_CreateJobOperation,
    responses={
        400: _BAD_INPUT,
        401: _UNAUTHENTICATED,
        403: _FORBIDDEN,
        409: ResponseSpec(
            ConflictBody, description="A scan is already pending or running; `extra.job`."
        ),
        413: ResponseSpec(ErrorBody, description="Body larger than allowed."),
    },
)
async def create_job(request: Request[Any, Any, Any]) -> Job:
    """Create a job; a second scan for the same scope gets 409 with the active one."""
    runtime = _runtime_of(request)
    body = await request.body()
    content_type = request.headers.get("content-type", "")

    def create() -> Job:
        caller = _caller(request, runtime)
        caller.require_write()
        payload = parse_create_body(content_type, body)
        caller.require_library(payload.library_id)
        return runtime.service.create_job(payload.type, payload.data, library_id=payload.library_id)

    return await anyio.to_thread.run_sync(create)


@get(
    "/jobs",
    name=ROUTE_LIST,
    summary="List jobs, newest first",
    description="Needs `jobs:read` or `jobs:write`; jobs of other libraries are left out.",
    responses={
        200: ResponseSpec(ListJobsResponse, description="One page, newest first, and the total."),
        **_READ_ERRORS,
    },
)
async def list_jobs(
    request: Request[Any, Any, Any],
    *,
    limit: Annotated[
        str | None, Parameter(description="Page size: an integer 1-100, default 10.")
    ] = None,
    offset: Annotated[
        str | None, Parameter(description="Jobs to skip: an integer, 0 or more.")
    ] = None,
    status: Annotated[
        list[str] | None,
        Parameter(
            description="Only these statuses (repeatable): pending, in_progress, completed, failed."
        ),
    ] = None,
    type: Annotated[str | None, Parameter(description="Only this job type, e.g. scan.")] = None,
    library_id_or_global: Annotated[
        str | None, Parameter(description="Only jobs of this library id and global jobs.")
    ] = None,
) -> Response[bytes]:
    """One page of the jobs the user may see, and how many match."""
    del limit, offset, status, type, library_id_or_global  # documented; parsed strictly below
    runtime = _runtime_of(request)

    cache = runtime.list_cache

    def check() -> tuple[Hashable, ListJobsOptions]:
        caller = _caller(request, runtime)
        caller.require_read()
        query = parse_list_query(request.query_params)
        visible = caller.visible_library_ids
        key = (
            query.limit,
            query.offset,
            tuple(query.status),
            query.type,
            query.library_id_or_global,
            None if visible is None else frozenset(visible),
        )
        options = ListJobsOptions(
            limit=query.limit,
            offset=query.offset,
            statuses=query.status,
            type=query.type,
            library_id_or_global=query.library_id_or_global,
            visible_library_ids=visible,
        )
        return key, options

    def read(key: Hashable, options: ListJobsOptions) -> bytes:
        if (kept := cache.get(key)) is not None:
            return kept
        version = cache.version()  # before reading: a change meanwhile makes the answer stale
        jobs, total = runtime.service.list_jobs_with_total(options)
        body = msgspec.json.encode(ListJobsResponse(jobs=jobs, total=total))
        cache.put(key, version, body)
        return body

    def check_and_read() -> bytes:
        return read(*check())

    if not runtime.config.actor_access_is_fast:
        body = await anyio.to_thread.run_sync(check_and_read)
    else:
        # The host's hook answers from memory: check on the loop, and answer a kept
        # answer without a worker thread.
        key, options = check()
        kept = cache.get(key)
        body = kept if kept is not None else await anyio.to_thread.run_sync(read, key, options)
    return Response(body, media_type=MediaType.JSON)


@get(
    "/jobs/events",
    name=ROUTE_EVENTS,
    summary="Live job events (Server-Sent Events)",
    description=(
        "Events `job.created`, `job.status_changed`, `job.progress` (and `job.snapshot` "
        "after a reconnect whose missed events are no longer kept); `data:` is the Job "
        "JSON, `id:` the event id. Send `Last-Event-ID` to resume. Keep-alive comments "
        "every few seconds. Jobs of libraries the user cannot access are left out."
    ),
    responses=_READ_ERRORS,
)
async def job_events(
    request: Request[Any, Any, Any],
    *,
    library_id: Annotated[
        str | None, Parameter(description="Only events of this library id and of global jobs.")
    ] = None,
) -> ServerSentEvent:
    """A stream of the job events the user may see."""
    del library_id  # documented; parsed strictly below
    runtime = _runtime_of(request)
    config = runtime.config

    def prepare() -> tuple[EventFilter, int | None]:
        caller = _caller(request, runtime)
        caller.require_read()
        query = parse_query(request.query_params, EventsQuery)
        resume_after = parse_last_event_id(request.headers.get("last-event-id"))
        return EventFilter(caller.visible_library_ids, query.library_id), resume_after

    event_filter, resume_after = await anyio.to_thread.run_sync(prepare)
    subscription = await runtime.hub.subscribe(event_filter)
    return ServerSentEvent(
        event_stream(
            runtime.hub,
            subscription,
            resume_after=resume_after,
            load_replay=lambda subscription, last_id: plan_resume(
                runtime.database, subscription, last_id, replay_limit=config.replay_limit
            ),
            load_snapshot=lambda visible: snapshot_jobs(runtime, visible),
            keepalive_interval=config.keepalive_interval,
        )
    )


def snapshot_jobs(runtime: ResyncRuntime, event_filter: EventFilter) -> list[str]:
    """Job JSON of the newest jobs a stream may see, oldest first."""
    jobs = runtime.service.list_jobs(
        ListJobsOptions(
            limit=runtime.config.snapshot_size,
            library_id_or_global=event_filter.library_id,
            visible_library_ids=event_filter.visible_library_ids,
        )
    )
    return [msgspec.json.encode(job).decode() for job in reversed(jobs)]


@get(
    "/jobs/{job_id:str}",
    name=ROUTE_RETRIEVE,
    summary="One job",
    responses={**_READ_ERRORS, 404: _NOT_FOUND},
)
async def retrieve_job(
    request: Request[Any, Any, Any],
    job_id: Annotated[str, Parameter(description=_JOB_ID_DOC)],
) -> Job:
    """The job, or 404 when it does not exist or is of a library the user cannot access."""
    runtime = _runtime_of(request)

    def retrieve() -> Job:
        caller = _caller(request, runtime)
        caller.require_read()
        return runtime.service.retrieve_job(
            parse_path_id(job_id), visible_library_ids=caller.visible_library_ids
        )

    return await anyio.to_thread.run_sync(retrieve)


@get(
    "/jobs/{job_id:str}/logs",
    name=ROUTE_LOGS,
    summary="A job's log lines, oldest first",
    responses={**_READ_ERRORS, 404: _NOT_FOUND},
)
async def list_job_logs(
    request: Request[Any, Any, Any],
    job_id: Annotated[str, Parameter(description=_JOB_ID_DOC)],
    *,
    after_id: Annotated[str | None, Parameter(description="Only lines with a larger id.")] = None,
    level: Annotated[
        list[str] | None,
        Parameter(description="Only these levels (repeatable): debug, info, warn, error."),
    ] = None,
    limit: Annotated[str | None, Parameter(description="At most this many lines (1-1000).")] = None,
) -> ListJobLogsResponse:
    """Log lines of a job the user may see."""
    del after_id, level, limit  # documented; parsed strictly below
    runtime = _runtime_of(request)

    def list_logs() -> ListJobLogsResponse:
        caller = _caller(request, runtime)
        caller.require_read()
        job_number = parse_path_id(job_id)
        query = parse_query(request.query_params, LogsQuery, list_fields=LOG_LIST_FIELDS)
        job = runtime.service.retrieve_job(
            job_number, visible_library_ids=caller.visible_library_ids
        )
        logs = runtime.service.list_job_logs(
            job.id, after_id=query.after_id, levels=query.level, limit=query.limit
        )
        return ListJobLogsResponse(logs=logs)

    return await anyio.to_thread.run_sync(list_logs)


def build_jobs_router(runtime: ResyncRuntime) -> Router:
    """The ``{api_prefix}/jobs`` routes bound to ``runtime``."""
    config = runtime.config
    return Router(
        path=config.api_prefix,
        route_handlers=[create_job, list_jobs, job_events, retrieve_job, list_job_logs],
        opt={RUNTIME_OPT: runtime},
        guards=list(config.guards),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        include_in_schema=config.include_in_schema,
        request_max_body_size=config.max_body_size,
        tags=["jobs"],
    )
