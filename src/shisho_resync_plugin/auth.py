"""Who is asking and what they may do: the actor is ``request.user``, its access comes from
the host's ``actor_access`` hook.

Every jobs route states the permission it needs in its ``opt`` (:data:`REQUIRES`); the
router's ``before_request`` hook (:func:`authorization_hook`) checks it before Litestar
parses the parameters, so the order of answers is 401 (nobody signed in), 403 (permission),
then 400 (bad input). The hook leaves the :class:`Caller` in the connection's state, where
the route's ``context`` dependency finds it (:func:`caller_of`).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from typing import Any, Final

import anyio.to_thread
import pluggy
from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from shisho_jobs.hooktypes import NO_ACCESS, ActorAccess

REQUIRES: Final = "shisho_jobs_requires"
"""Key in a route's ``opt``: the :class:`Permission` the route needs."""

_CALLER_STATE: Final = "shisho_jobs_caller"


class Permission(enum.Enum):
    """What a route needs of its caller."""

    READ = "jobs:read"
    """``jobs:read`` or ``jobs:write`` (whoever may start a scan may see how it went)."""
    WRITE = "jobs:write"


@dataclass(frozen=True)
class Caller:
    """The signed-in actor of a request and its access."""

    actor: Any
    access: ActorAccess

    @property
    def visible_library_ids(self) -> Collection[int] | None:
        """Libraries whose jobs the caller may see (``None``: all); global jobs always."""
        return self.access.library_ids

    def require(self, permission: Permission) -> None:
        """Raise 403 unless the caller holds ``permission``."""
        allowed = (
            self.access.can_read_jobs
            if permission is Permission.READ
            else self.access.can_write_jobs
        )
        if not allowed:
            raise PermissionDeniedException(f"You need the {permission.value} permission.")

    def require_library(self, library_id: int | None) -> None:
        """Raise 403 unless the caller may start a job in this scope.

        A global job (``None``) touches every library, so it needs access to all of them.
        Libraries the caller cannot access get 403 whether or not they exist, so the answer
        never tells which ids exist.
        """
        if library_id is None:
            if self.access.library_ids is not None:
                raise PermissionDeniedException(
                    "A global job needs access to every library; give a library_id."
                )
        elif not self.access.can_access_library(library_id):
            raise PermissionDeniedException(f"You may not access library {library_id}.")


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """``request.user``, or ``None`` when there is none (no auth middleware or anonymous)."""
    # request.user raises when no auth middleware set it; anonymous is simply no user.
    return connection.scope.get("user")


def access_of(actor: Any, plugin_manager: pluggy.PluginManager) -> ActorAccess:
    """The actor's access from the ``actor_access`` hook; no permissions when nobody answers."""
    if actor is None:
        return NO_ACCESS
    access = plugin_manager.hook.actor_access(actor=actor)
    return access if isinstance(access, ActorAccess) else NO_ACCESS


def authorization_hook(
    plugin_manager: pluggy.PluginManager, *, hook_is_fast: bool
) -> Callable[[Request[Any, Any, Any]], Awaitable[Any]]:
    """The ``before_request`` hook of every jobs route: 401 without a user, 403 without the
    route's permission.

    A hook, not a guard: Litestar hands each guard a copy of the route handler, which costs a
    third of a status request answered from the list cache. The hook runs at the same point
    for what the order of answers needs: after the host's guards and before Litestar reads
    the body, the parameters or the dependencies, so 401 and 403 still come before 400.

    The router's hook takes the place of the app's (Litestar runs only the nearest layer's),
    so the host's own ``before_request``, when it has one, is called after the checks.

    Args:
        plugin_manager: whose ``actor_access`` hook answers.
        hook_is_fast: the hook answers from memory, so it may run on the event loop;
            otherwise it runs on a worker thread (it may query the host's database).
    """

    async def authorize(request: Request[Any, Any, Any]) -> Any:
        scope = request.scope
        permission = scope["route_handler"].opt.get(REQUIRES)
        if isinstance(permission, Permission):
            actor = scope.get("user")  # see actor_of
            if actor is None:
                raise NotAuthorizedException("Sign in to use the jobs API.")
            access = (
                access_of(actor, plugin_manager)
                if hook_is_fast
                else await anyio.to_thread.run_sync(access_of, actor, plugin_manager)
            )
            caller = Caller(actor=actor, access=access)
            caller.require(permission)
            # Straight into the scope's state dict (what ``connection.state`` wraps): a State
            # object per request costs more than the rest of the lookup.
            scope["state"][_CALLER_STATE] = caller
        host_hook = request.app.before_request
        return None if host_hook is None else await host_hook(request)

    return authorize


def caller_of(request: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """Who :func:`authorization_hook` let in."""
    caller: Caller = request.scope["state"][_CALLER_STATE]
    return caller


def visible_library_ids_of(
    connection: ASGIConnection[Any, Any, Any, Any],
) -> Collection[int] | None:
    """The libraries the request's caller may see; none when the guard let nobody in yet
    (an answer made then shows what a reader of no library may receive)."""
    caller = connection.scope.get("state", {}).get(_CALLER_STATE)
    return caller.visible_library_ids if isinstance(caller, Caller) else frozenset()


CurrentActor = Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[Any] | Any]
"""The host's answer to "who does this request sign in as now?" (``None``: nobody)."""


def default_actor_key(actor: Any) -> Hashable:
    """Who an actor is, for counting its event streams: its ``id`` when it has one, else the
    actor itself (when hashable), else its ``repr``."""
    key = getattr(actor, "id", None)
    if key is not None and isinstance(key, Hashable):
        return ("id", key)
    return actor if isinstance(actor, Hashable) else repr(actor)


async def still_allowed(
    connection: ASGIConnection[Any, Any, Any, Any],
    caller: Caller,
    plugin_manager: pluggy.PluginManager,
    *,
    current_actor: CurrentActor | None,
    hook_is_fast: bool,
) -> bool:
    """Whether the caller of a long-lived request (an event stream) may still receive it.

    ``False`` once its session ended (``current_actor`` answers ``None`` or someone else)
    or its access changed in any way (permissions or libraries): the stream ends, and the
    client's reconnect is answered with the rights it has now.

    Args:
        connection: the stream's request, as it was opened (its cookies, its headers).
        caller: who opened it, with the access it had then.
        plugin_manager: whose ``actor_access`` hook answers.
        current_actor: the host's check of the request's credentials now; ``None``: the
            actor is taken as still signed in, and only its access is checked again.
        hook_is_fast: ``actor_access`` may run on the event loop.
    """
    actor = caller.actor
    if current_actor is not None:
        answer = current_actor(connection)
        actor = await answer if inspect.isawaitable(answer) else answer
        if actor is None or default_actor_key(actor) != default_actor_key(caller.actor):
            return False
    access = (
        access_of(actor, plugin_manager)
        if hook_is_fast
        else await anyio.to_thread.run_sync(access_of, actor, plugin_manager)
    )
    return access == caller.access
