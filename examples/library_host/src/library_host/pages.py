"""The host's HTML pages (CONTRACT section 6): login, libraries and the jobs pages."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_429_TOO_MANY_REQUESTS,
)

from library_host import catalog
from library_host.auth import (
    SESSION_USER_KEY,
    current_user,
    jobs_readers_only,
    login_required,
)
from library_host.login_throttle import LoginThrottle
from library_host.sessions import ROTATE_SESSION_ID
from library_host.users import User, authenticate
from shisho_jobs import JobNotFound, JobService, JobStatus, ListJobsOptions
from shisho_jobs.dto import Job
from shisho_jobs.schema import MAX_ID

JOBS_PAGE_SIZE = 50
MAX_PAGE = 1_000_000
"""Highest page number asked for: keeps every offset (at most 500 a page) within a 32-bit
integer, which PostgreSQL's ``integer`` columns and the jobs API accept."""
_STATUSES = tuple(status.value for status in JobStatus)
LOGIN_PATH = "/login"

PageNumber = Annotated[
    int, QueryParameter(le=MAX_PAGE, description=f"Page number (below 1: 1), at most {MAX_PAGE}.")
]
"""A ``page`` query number: bounded before it reaches SQL (400 above :data:`MAX_PAGE`)."""
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description=f"A row id, 1 to {MAX_ID}.")]
"""An id in a page's path: bounded before it reaches SQL (400 outside 1 to ``MAX_ID``)."""


def _safe_next(target: str | None) -> str | None:
    # Only paths of this site: "//host" and "/\\host" would leave it.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def _service(request: Request[Any, Any, Any]) -> JobService:
    service: JobService = request.app.state.jobs
    return service


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:  # the guards make this unreachable; keeps the type narrow
        raise NotAuthorizedException()
    return user


def _page(
    request: Request[Any, Any, Any], template: str, *, library_id: int | None = None, **context: Any
) -> Template:
    user = _user(request)
    libraries = catalog.list_libraries(request.app.state.database, user.library_ids)
    return Template(
        template_name=template,
        context={
            "user": user,
            "libraries": libraries,
            "library_names": {library.id: library.name for library in libraries},
            "library_id": library_id,
            **context,
        },
    )


# --- signing in --------------------------------------------------------------------------------


@get(LOGIN_PATH, name="host:login_form", sync_to_thread=False)
def login_form(
    request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Template | Redirect:
    """The login form; a signed-in user goes straight on."""
    if current_user(request) is not None:
        return Redirect(_safe_next(next) or "/")
    return Template(template_name="login.html", context={"next": _safe_next(next) or ""})


@post(LOGIN_PATH, name="host:login", status_code=HTTP_303_SEE_OTHER)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the form's username and password and start a session."""
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or "")) or "/"
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    wait = throttle.retry_after(username, address)
    if wait is not None:
        return Template(
            template_name="login.html",
            context={
                "next": next_path,
                "error": f"Too many failed sign-ins. Try again in {wait} seconds.",
                "username": username,
            },
            status_code=HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    user = await anyio.to_thread.run_sync(
        authenticate, request.app.state.database, username, password
    )
    if user is None:
        throttle.failed(username, address)
        return Template(
            template_name="login.html",
            context={
                "next": next_path,
                "error": "Wrong username or password.",
                "username": username,
            },
            status_code=HTTP_400_BAD_REQUEST,
        )
    throttle.succeeded(username)
    request.state[ROTATE_SESSION_ID] = True
    request.set_session({SESSION_USER_KEY: user.id})
    return Redirect(next_path, status_code=HTTP_303_SEE_OTHER)


@post("/logout", name="host:logout", status_code=HTTP_303_SEE_OTHER)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session."""
    request.clear_session()
    return Redirect(LOGIN_PATH, status_code=HTTP_303_SEE_OTHER)


def redirect_to_login(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Redirect:
    """Send an anonymous visitor of a page to the login form, and back afterwards."""
    return Redirect(LOGIN_PATH, query_params={"next": request.url.path})


def bad_request_page(_: Request[Any, Any, Any], error: ValidationException) -> Template:
    """A page's 400: which part of the address is out of range, and why."""
    problems = [
        f"{item['key']}: {item['message']}"
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict) and "key" in item and "message" in item
    ]
    return Template(
        template_name="error.html",
        context={"title": "Bad request", "detail": error.detail, "problems": problems},
        status_code=HTTP_400_BAD_REQUEST,
    )


# --- libraries ---------------------------------------------------------------------------------


@get("/", name="host:home", sync_to_thread=True)
def home(request: Request[Any, Any, Any]) -> Redirect:
    """The first library the user may open, else the jobs page."""
    user = _user(request)
    libraries = catalog.list_libraries(request.app.state.database, user.library_ids)
    if libraries:
        return Redirect(f"/libraries/{libraries[0].id}")
    return Redirect("/settings/jobs")


@get("/libraries/{library_id:int}", name="host:library", sync_to_thread=True)
def library_page(
    request: Request[Any, Any, Any], library_id: RowId, page: PageNumber = 1
) -> Template:
    """A library's books, by title, 500 a page."""
    user = _user(request)
    database = request.app.state.database
    library = (
        catalog.get_library(database, library_id) if user.can_access_library(library_id) else None
    )
    if library is None:
        raise NotFoundException(f"No library {library_id}.")
    page = max(page, 1)
    books, total = catalog.list_books(
        database, library_id, offset=(page - 1) * catalog.BOOKS_PAGE_SIZE
    )
    return _page(
        request,
        "library.html",
        library_id=library_id,
        library=library,
        books=books,
        total=total,
        page=page,
        pages=max(1, -(-total // catalog.BOOKS_PAGE_SIZE)),
    )


# --- jobs --------------------------------------------------------------------------------------


@get("/settings/jobs", name="host:jobs", sync_to_thread=True, guards=[jobs_readers_only])
def jobs_page(
    request: Request[Any, Any, Any],
    type: FromQuery[str] = "",
    status: FromQuery[str] = "",
    library: FromQuery[str] = "",
    page: PageNumber = 1,
) -> Template:
    """Every job the user may see, newest first, filtered by type, status and library.

    The filter form sends empty fields for "any"; a value that names nothing known
    is treated the same way rather than answered with an error page.
    """
    user = _user(request)
    service = _service(request)
    type_filter = type if type in service.job_types else None
    status_filter = status if status in _STATUSES else None
    library_filter = int(library) if library.isdecimal() and len(library) < 10 else None
    page = max(page, 1)
    jobs, total = service.list_jobs_with_total(
        ListJobsOptions(
            limit=JOBS_PAGE_SIZE,
            offset=(page - 1) * JOBS_PAGE_SIZE,
            statuses=[status_filter] if status_filter else (),
            type=type_filter,
            library_id=library_filter,
            visible_library_ids=user.library_ids,
        )
    )
    return _page(
        request,
        "jobs.html",
        jobs=jobs,
        total=total,
        page=page,
        pages=max(1, -(-total // JOBS_PAGE_SIZE)),
        job_types=service.job_types.names,
        statuses=list(_STATUSES),
        filters={
            "type": type_filter or "",
            "status": status_filter or "",
            "library": library_filter,
        },
    )


@get(
    "/settings/jobs/{job_id:int}", name="host:job", sync_to_thread=True, guards=[jobs_readers_only]
)
def job_page(request: Request[Any, Any, Any], job_id: RowId) -> Template:
    """One job: status, progress, timestamps and its log, updated live while it runs."""
    user = _user(request)
    service = _service(request)
    try:
        job: Job = service.retrieve_job(job_id, visible_library_ids=user.library_ids)
    except JobNotFound:
        raise NotFoundException(f"No job {job_id}.") from None
    return _page(
        request,
        "job.html",
        library_id=job.library_id,
        job=job,
        logs=service.list_job_logs(job_id),
    )


pages_router = Router(
    path="/",
    route_handlers=[home, library_page, jobs_page, job_page],
    guards=[login_required],
    exception_handlers={
        NotAuthorizedException: redirect_to_login,
        ValidationException: bad_request_page,
    },
    include_in_schema=False,
)
"""The signed-in pages; anonymous visitors are redirected to the login form."""

auth_router = Router(path="/", route_handlers=[login_form, login, logout], include_in_schema=False)
"""Login and logout, open to everyone (the CSRF check still applies to the forms)."""
