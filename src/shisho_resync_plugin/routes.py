"""The jobs API of CONTRACT section 4: the route handlers and the router that carries them.

A request passes, in this order: the host's guards, the router's ``before_request`` hook
(401 nobody signed in, 403 missing permission; see :mod:`shisho_resync_plugin.auth`),
Litestar's parsing of the path, query and body from the msgspec structs (400 naming the
field; see :mod:`shisho_resync_plugin.inputs`), then the handler: library checks and the
database. Handlers reach the plugin's live objects through the dependencies ``runtime`` and
``caller`` and hand every blocking step to a worker thread in one hop, so the event loop never
waits on SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import TooManyRequestsException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_201_CREATED

from shisho_jobs.dto import CreateJobPayload, Job, ListJobLogsResponse, ListJobsResponse
from shisho_jobs.filters import ListJobsFilter, ListJobsQuery
from shisho_jobs.visibility import Visibility
from shisho_resync_plugin.auth import (
    Caller,
    authorization_hook,
    caller_of,
    default_actor_key,
    still_allowed,
)
from shisho_resync_plugin.control_routes import cancel_job, list_watchers, list_workers, retry_job
from shisho_resync_plugin.errors import (
    EXCEPTION_HANDLERS,
    ConflictBody,
    ErrorBody,
)
from shisho_resync_plugin.events import TooManyStreams
from shisho_resync_plugin.headers import API_HEADERS, response_headers
from shisho_resync_plugin.inputs import (
    EventsQuery,
    JobIdPath,
    LastEventIdHeader,
    LogsQuery,
    StrictJsonBody,
    last_event_id,
    query_dependency,
    row_id,
)
from shisho_resync_plugin.route_specs import (
    BAD_INPUT,
    FORBIDDEN,
    NOT_FOUND,
    READ_ERRORS,
    READS,
    UNAUTHENTICATED,
    WRITES,
)
from shisho_resync_plugin.runtime import Injected, RequestContext, ResyncRuntime
from shisho_resync_plugin.stream import event_stream, resume_messages

ROUTE_CREATE: Final = "shisho_jobs:create"
ROUTE_LIST: Final = "shisho_jobs:list"
ROUTE_RETRIEVE: Final = "shisho_jobs:retrieve"
ROUTE_LOGS: Final = "shisho_jobs:logs"
ROUTE_EVENTS: Final = "shisho_jobs:events"

Q = TypeVar("Q")
T = TypeVar("T")
AnyRequest = Request[Any, Any, Any]


@post(
    "/jobs",
    name=ROUTE_CREATE,
    opt=WRITES,
    status_code=HTTP_201_CREATED,
    dto=StrictJsonBody[CreateJobPayload],
    return_dto=None,
    summary="Start a job (start or join: 409 names the active scan)",
    description=(
        "Needs `jobs:write` and access to the library; a global job (`library_id` absent or "
        "null) needs access to every library. Unsafe: send the CSRF token in `X-CSRFToken`."
    ),
    responses={
        400: BAD_INPUT,
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        409: ResponseSpec(
            ConflictBody, description="A scan is already pending or running; `extra.job`."
        ),
        413: ResponseSpec(ErrorBody, description="Body larger than allowed."),
    },
)
async def create_job(
    data: JSONBody[CreateJobPayload], context: Injected[RequestContext[None]]
) -> Job:
    """Create a job; a second scan for the same scope gets 409 with the active one."""
    context.caller.require_library(data.library_id)
    service = context.runtime.service
    return await anyio.to_thread.run_sync(
        lambda: service.create_job(data.type, data.data, library_id=data.library_id)
    )


def _reader_filter(query: ListJobsQuery, caller: Caller) -> ListJobsFilter:
    # Hashable and complete (the query plus the libraries the caller may see): the list
    # cache's key too.
    return ListJobsFilter.for_reader(query, visible_library_ids=caller.visible_library_ids)


def _reader_visibility(query: EventsQuery, caller: Caller) -> Visibility:
    return Visibility.of(caller.visible_library_ids, query.library_id)


def _as_given(query: LogsQuery, _caller: Caller) -> LogsQuery:
    return query


@get(
    "/jobs",
    name=ROUTE_LIST,
    opt=READS,
    summary="List jobs, newest first",
    description="Needs `jobs:read` or `jobs:write`; jobs of other libraries are left out.",
    responses={
        200: ResponseSpec(ListJobsResponse, description="One page, newest first, and the total."),
        **READ_ERRORS,
    },
)
async def list_jobs(list_context: Injected[RequestContext[ListJobsFilter]]) -> Response[bytes]:
    """One page of the jobs the user may see, and how many match."""
    runtime, reader_filter = list_context.runtime, list_context.query
    body = runtime.list_cache.get(reader_filter)
    if body is None:
        body = await anyio.to_thread.run_sync(_read_page, runtime, reader_filter)
    return Response(body, media_type=MediaType.JSON)


def _read_page(runtime: ResyncRuntime, reader_filter: ListJobsFilter) -> bytes:
    """The encoded answer of a list request, kept in the list cache (blocking)."""
    cache = runtime.list_cache
    version = cache.version()  # before reading: a change meanwhile makes the answer stale
    jobs, total = runtime.service.list_jobs_with_total(reader_filter)
    body = msgspec.json.encode(ListJobsResponse(jobs=jobs, total=total))
    cache.put(reader_filter, version, body)
    return body


@get(
    "/jobs/events",
    name=ROUTE_EVENTS,
    opt=READS,
    summary="Live job events (Server-Sent Events)",
    description=(
        "Events `job.created`, `job.status_changed`, `job.progress` (and `job.snapshot` "
        "after a reconnect whose missed events are no longer kept); `data:` is the Job "
        "JSON, `id:` the event id. Send `Last-Event-ID` to resume. Keep-alive comments "
        "every few seconds. Jobs of libraries the user cannot access are left out. The "
        "stream ends when the user's session ends or access changes; more than 8 open "
        "streams of one user: 429."
    ),
    responses={
        **READ_ERRORS,
        429: ResponseSpec(ErrorBody, description="Too many open event streams of this user."),
    },
)
async def job_events(
    events_context: Injected[RequestContext[Visibility]],
    request: AnyRequest,
    last_event: LastEventIdHeader = None,
) -> ServerSentEvent:
    """A stream of the job events the user may see, while the user may see them."""
    resume_after = last_event_id(last_event)
    runtime, caller = events_context.runtime, events_context.caller
    config = runtime.config
    actor_key = config.actor_key or default_actor_key
    try:
        subscription = await runtime.hub.subscribe(
            events_context.query,
            owner=actor_key(caller.actor),
            max_per_owner=config.max_streams_per_user,
        )
    except TooManyStreams as too_many:
        raise TooManyRequestsException(
            f"You have {too_many.limit} open event streams, the most allowed; "
            "close one (a tab) first."
        ) from None

    async def check_reader() -> bool:
        return await still_allowed(
            request,
            caller,
            runtime.plugin_manager,
            current_actor=config.current_actor,
            hook_is_fast=config.actor_access_is_fast,
        )

    return ServerSentEvent(
        event_stream(
            runtime.hub,
            subscription,
            resume_after=resume_after,
            catch_up=lambda subscription, last_id: resume_messages(
                runtime.hub.outbox,
                runtime.service,
                subscription,
                last_id,
                replay_limit=runtime.config.replay_limit,
                snapshot_size=runtime.config.snapshot_size,
            ),
            keepalive_interval=runtime.config.keepalive_interval,
            still_allowed=check_reader,
        )
    )


@get(
    "/jobs/{job_id:str}",
    name=ROUTE_RETRIEVE,
    opt=READS,
    summary="One job",
    responses={**READ_ERRORS, 404: NOT_FOUND},
)
async def retrieve_job(job_id: JobIdPath, context: Injected[RequestContext[None]]) -> Job:
    """The job, or 404 when it does not exist or is of a library the user cannot access."""
    job_number = row_id(job_id, "job_id")
    service, visible = context.runtime.service, context.caller.visible_library_ids
    return await anyio.to_thread.run_sync(
        lambda: service.retrieve_job(job_number, visible_library_ids=visible)
    )


@get(
    "/jobs/{job_id:str}/logs",
    name=ROUTE_LOGS,
    opt=READS,
    summary="A job's log lines, oldest first, one page at a time",
    description=(
        "At most `limit` lines (default 200, at most 1000) after `after_id`; `has_more` says "
        "whether more follow. Lines of a global job about a library the user cannot access "
        "are left out; stack traces and server paths only for users with access to every "
        "library."
    ),
    responses={**READ_ERRORS, 404: NOT_FOUND},
)
async def list_job_logs(
    job_id: JobIdPath, logs_context: Injected[RequestContext[LogsQuery]]
) -> ListJobLogsResponse:
    """Log lines of a job the user may see."""
    job_number = row_id(job_id, "job_id")
    service, visible = logs_context.runtime.service, logs_context.caller.visible_library_ids
    filters = logs_context.query

    def list_logs() -> ListJobLogsResponse:
        job = service.retrieve_job(job_number, visible_library_ids=visible)
        logs, more = service.page_job_logs(
            job.id,
            after_id=filters.after_id,
            levels=filters.level,
            limit=filters.limit,
            visible_library_ids=visible,
        )
        return ListJobLogsResponse(logs=logs, has_more=more)

    return await anyio.to_thread.run_sync(list_logs)


def build_jobs_router(runtime: ResyncRuntime) -> Router:
    """The ``{api_prefix}/jobs`` routes, reaching ``runtime`` through their context dependency."""
    config = runtime.config

    # Closures, not bound methods: Litestar deep-copies a router when it registers it and
    # copies functions by reference, so every request shares these live objects.
    def context(request: Request[Any, Any, Any]) -> RequestContext[None]:
        return RequestContext(runtime=runtime, caller=caller_of(request), query=None)

    def with_query(
        derive: Callable[[Q, Caller], T],
    ) -> Callable[[Q, Request[Any, Any, Any]], RequestContext[T]]:
        def build(query: Q, request: Request[Any, Any, Any]) -> RequestContext[T]:
            caller = caller_of(request)
            return RequestContext(runtime=runtime, caller=caller, query=derive(query, caller))

        return build

    return Router(
        path=config.api_prefix,
        route_handlers=[
            create_job,
            list_jobs,
            job_events,
            list_workers,
            list_watchers,
            retrieve_job,
            list_job_logs,
            cancel_job,
            retry_job,
        ],
        # One dependency per route (see RequestContext), named after what uses it.
        dependencies={
            "context": Provide(context, sync_to_thread=False),
            "list_context": query_dependency(ListJobsQuery, with_query(_reader_filter)),
            "events_context": query_dependency(EventsQuery, with_query(_reader_visibility)),
            "logs_context": query_dependency(LogsQuery, with_query(_as_given)),
        },
        # The host's guards run first, then the plugin's own checks (see authorization_hook).
        guards=list(config.guards),
        before_request=authorization_hook(
            runtime.plugin_manager, hook_is_fast=config.actor_access_is_fast
        ),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        middleware=[response_headers(API_HEADERS)],
        include_in_schema=config.include_in_schema,
        request_max_body_size=config.max_body_size,
        tags=["jobs"],
    )
