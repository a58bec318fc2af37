"""The hook specifications of shisho_jobs (pluggy project ``shisho``).

Only specs live here. Hooks are always called with keyword arguments, so a spec
may grow arguments without breaking implementations that take fewer.
Documentation for each hook: docs/hooks.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from shisho_jobs.dto import Job
from shisho_jobs.hooktypes import ActorAccess, JobTypeSpec, Library, NavContext, NavItem

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext

PROJECT_NAME = "shisho"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --- Libraries (answered by the host) --------------------------------------------------


@hookspec(firstresult=True)
def list_libraries() -> list[Library] | None:
    """Every library, in the host's order.

    ``firstresult``: the host owns its libraries, so one answer is the answer.

    Returns:
        All libraries, or ``None`` to let another implementation answer.
    """


@hookspec(firstresult=True)
def get_library(library_id: int) -> Library | None:
    """The library with this id, looked up directly (not by listing all of them).

    ``firstresult``: the host owns its libraries.

    Args:
        library_id: the library's id.

    Returns:
        The library, or ``None`` when no library has this id.
    """


@hookspec(firstresult=True)
def scan_library(library: Library, context: JobContext) -> Any:
    """Scan one library's files and bring the host's catalogue up to date.

    Called by the built-in ``scan`` job once per library in scope. Report
    progress with ``context.progress(done, total)``, log unreadable files with
    ``context.log.warn(...)``, return early when ``context.cancelled`` is set,
    and raise to fail the scan (the message is shown to the user).

    ``firstresult``: one scanner per host.

    Args:
        library: the library to scan.
        context: the running job's context (logger, progress, cancellation).

    Returns:
        Anything not ``None`` (for example a summary dict) once scanned; ``None``
        means "not mine" and lets the next implementation answer.
    """


# --- Job types ---------------------------------------------------------------------------


@hookspec
def job_types() -> list[JobTypeSpec]:  # type: ignore[empty-body]
    """Job types this plugin contributes (``scan`` and ``export`` are built in).

    Returns:
        Specs of the job types; an empty list for none. A type name registered
        twice is an error at start-up.
    """


# --- Access (answered by the host) -------------------------------------------------------


@hookspec(firstresult=True)
def actor_access(actor: Any) -> ActorAccess | None:
    """What ``actor`` may do: its permissions and the libraries it may access.

    ``firstresult``: the host owns its users.

    Args:
        actor: the host's user object, as the web framework gives it
            (``request.user`` in Litestar); never ``None``.

    Returns:
        The actor's access, or ``None`` to let another implementation answer.
        When nobody answers the actor has no permissions at all.
    """


# --- Navigation --------------------------------------------------------------------------


@hookspec
def nav_items(slot: str, context: NavContext) -> list[NavItem]:  # type: ignore[empty-body]
    """Items to render in a named slot of the host's navigation.

    Contributors check permissions themselves and return ``[]`` when the actor
    may not see their item.

    Args:
        slot: the slot's name, for example ``"top_nav.after_library_switcher"``.
        context: the actor, its access and the selected library.

    Returns:
        The items for this slot, possibly empty.
    """


# --- Job lifecycle (observers; return values are ignored) --------------------------------


@hookspec
def job_created(job: Job) -> None:
    """A job was created (called in the process that created it, after commit).

    Args:
        job: the new job.
    """


@hookspec
def job_started(job: Job) -> None:
    """A worker claimed a job and is about to run its handler (in the worker's process).

    Args:
        job: the job, now ``in_progress``.
    """


@hookspec
def job_progress(job: Job) -> None:
    """A running job's progress was saved (in the worker's process).

    Writes are throttled (at most every 0.5 s, plus the final 100 %), so this is
    not called for every ``context.progress()``.

    Args:
        job: the job with its new ``progress``.
    """


@hookspec
def job_finished(job: Job) -> None:
    """A run of a job ended: it completed, failed or was cancelled, or went back to the
    queue because its worker shut down or was lost (``status`` says which). Called in the
    process of the worker that ran it, or of the worker that rescued it from a lost one;
    for a pending job cancelled before it ran, in the process that cancelled it.

    Args:
        job: the job in its final state for this run.
    """
