"""The jobs API's routes that act on a finished or running job, and those that show who runs them.

Cancel and retry (writes on one job) and the workers and watchers lists. Registered with the
other job routes by :func:`shisho_resync_plugin.routes.build_jobs_router`, so they pass the
same checks in the same order (see :mod:`shisho_resync_plugin.routes`).
"""

from __future__ import annotations

from typing import Final

import anyio.to_thread
from litestar import Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from shisho_jobs.dto import Job
from shisho_jobs.enums import JobStatus
from shisho_jobs.visibility import shown_job, shown_worker
from shisho_jobs.watch.health_store import ListWatchersResponse
from shisho_jobs.workers import ListWorkersResponse
from shisho_resync_plugin.errors import ConflictBody
from shisho_resync_plugin.inputs import JobIdPath, row_id
from shisho_resync_plugin.route_specs import (
    FORBIDDEN,
    NOT_FOUND,
    READS,
    UNAUTHENTICATED,
    WRITE_ERRORS,
    WRITES,
)
from shisho_resync_plugin.runtime import Injected, RequestContext

ROUTE_CANCEL: Final = "shisho_jobs:cancel"
ROUTE_RETRY: Final = "shisho_jobs:retry"
ROUTE_WORKERS: Final = "shisho_jobs:workers"
ROUTE_WATCHERS: Final = "shisho_jobs:watchers"


@post(
    "/jobs/{job_id:str}/cancel",
    name=ROUTE_CANCEL,
    opt=WRITES,
    status_code=HTTP_200_OK,
    summary="Cancel a job (pending: at once; running: its handler is asked to stop)",
    description=(
        "Needs `jobs:write` and access to the job's library (a global job: every library). "
        "A pending job answers 200, now `cancelled`; a running one 202 with "
        "`cancel_requested: true` (again 202 if asked twice), and ends `cancelled` once its "
        "handler stops. Unsafe: send the CSRF token in `X-CSRFToken`."
    ),
    responses={
        200: ResponseSpec(Job, description="The pending job, now cancelled."),
        202: ResponseSpec(Job, description="The running job, asked to stop."),
        **WRITE_ERRORS,
        404: NOT_FOUND,
        409: ResponseSpec(ConflictBody, description="The job has already finished; `extra.job`."),
    },
)
async def cancel_job(job_id: JobIdPath, context: Injected[RequestContext[None]]) -> Response[Job]:
    """Cancel the job: 200 when it was pending, 202 while its handler stops."""
    job_number = row_id(job_id, "job_id")
    service, caller = context.runtime.service, context.caller

    def cancel() -> Job:
        visible = caller.visible_library_ids
        job = service.retrieve_job(job_number, visible_library_ids=visible)
        caller.require_library(job.library_id)
        return shown_job(service.cancel_job(job_number, visible_library_ids=visible), visible)

    job = await anyio.to_thread.run_sync(cancel)
    status = HTTP_200_OK if job.status == JobStatus.CANCELLED else HTTP_202_ACCEPTED
    return Response(job, status_code=status)


@post(
    "/jobs/{job_id:str}/retry",
    name=ROUTE_RETRY,
    opt=WRITES,
    status_code=HTTP_201_CREATED,
    summary="Run a finished job again (start or join)",
    description=(
        "Needs `jobs:write` and access to the job's library (a global job: every library). "
        'Starts the same job again (same type, data and library, `trigger: "retry"`) '
        "through start-or-join: 201 and the new job, or 409 naming the active job that "
        "blocks it (or the job itself, if it is still active). Unsafe: send the CSRF token."
    ),
    responses={
        **WRITE_ERRORS,
        404: NOT_FOUND,
        409: ResponseSpec(ConflictBody, description="An active job blocks it; `extra.job`."),
    },
)
async def retry_job(job_id: JobIdPath, context: Injected[RequestContext[None]]) -> Job:
    """Start the finished job again; 409 with the active job that blocks it."""
    job_number = row_id(job_id, "job_id")
    service, caller = context.runtime.service, context.caller

    def retry() -> Job:
        visible = caller.visible_library_ids
        job = service.retrieve_job(job_number, visible_library_ids=visible)
        caller.require_library(job.library_id)
        return shown_job(service.retry_job(job_number, visible_library_ids=visible), visible)

    return await anyio.to_thread.run_sync(retry)


@get(
    "/jobs/workers",
    name=ROUTE_WORKERS,
    opt=READS,
    summary="The live workers",
    description=(
        "Needs `jobs:read` or `jobs:write`. Each worker process that runs jobs, with its host, "
        "pid, concurrency, the job types it runs and its latest heartbeat, oldest first."
    ),
    responses={
        200: ResponseSpec(ListWorkersResponse, description="The live workers."),
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
    },
)
async def list_workers(context: Injected[RequestContext[None]]) -> ListWorkersResponse:
    """The workers whose rows have not expired (their names only to readers of every library)."""
    workers = await anyio.to_thread.run_sync(context.runtime.service.list_workers)
    visible = context.caller.visible_library_ids
    return ListWorkersResponse(workers=[shown_worker(worker, visible) for worker in workers])


@get(
    "/jobs/watchers",
    name=ROUTE_WATCHERS,
    opt=READS,
    summary="How the live workers watch the library folders",
    description=(
        "Needs `jobs:read` or `jobs:write`. One entry per library and live worker that "
        "watches it: by OS events or by polling (also when events could not be set up, "
        "with the reason in `error`), or `failed` (a missing folder, say). Libraries the "
        "user cannot access are left out."
    ),
    responses={
        200: ResponseSpec(ListWatchersResponse, description="The watches, by library."),
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
    },
)
async def list_watchers(context: Injected[RequestContext[None]]) -> ListWatchersResponse:
    """Each library as each live worker watches it, for the libraries the user may see."""
    service, visible = context.runtime.service, context.caller.visible_library_ids
    watchers = await anyio.to_thread.run_sync(
        lambda: service.list_watchers(visible_library_ids=visible)
    )
    return ListWatchersResponse(watchers=watchers)
