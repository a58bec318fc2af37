"""The host's pages: sign-in, a library, and the job page the button opens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from bookshelf.db import library_row, library_rows
from bookshelf.users import User, check_password
from shisho_jobs import JobNotFound, JobService


@dataclass
class LoginForm:
    """The sign-in form."""

    username: str
    password: str


def _user(request: Request[Any, Any, Any]) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


@get("/login")
async def login_page() -> Template:
    """The sign-in form."""
    return Template(template_name="login.html", context={"error": None})


@post("/login", status_code=303)
async def login(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect | Template:
    """Sign in and go to the first library."""
    user = check_password(data.username, data.password)
    if user is None:
        return Template(template_name="login.html", context={"error": "Wrong name or password."})
    request.set_session({"user": user.name})
    return Redirect("/libraries/1")


@get("/libraries/{library_id:int}", sync_to_thread=True)
def library_page(request: Request[Any, Any, Any], library_id: int) -> Template | Redirect:
    """One library, with the top nav (library switcher, then the plugin's slot)."""
    if _user(request) is None:
        return Redirect("/login")
    library = library_row(library_id)
    if library is None:
        raise NotFoundException()
    return Template(
        template_name="library.html",
        context={"library": library, "libraries": library_rows()},
    )


@get("/settings/jobs/{job_id:int}", sync_to_thread=True)
def job_page(request: Request[Any, Any, Any], job_id: int) -> Template | Redirect:
    """One job, read through JobService (README step 6)."""
    user = _user(request)
    if user is None:
        return Redirect("/login")
    jobs: JobService = request.app.state.jobs
    try:
        job = jobs.retrieve_job(job_id, visible_library_ids=None if user.is_admin else set())
    except JobNotFound:
        raise NotFoundException() from None
    return Template(
        template_name="job.html",
        context={"job": job, "logs": jobs.list_job_logs(job_id), "libraries": library_rows()},
    )


routes = [login_page, login, library_page, job_page]
