"""Who is asking and what they may do: the actor is ``request.user``, its access comes from
the host's ``actor_access`` hook."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pluggy
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from shisho_jobs.hooktypes import NO_ACCESS, ActorAccess


@dataclass(frozen=True)
class Caller:
    """The signed-in actor of a request and its access."""

    actor: Any
    access: ActorAccess

    @property
    def visible_library_ids(self) -> Collection[int] | None:
        """Libraries whose jobs the caller may see (``None``: all); global jobs always."""
        return self.access.library_ids

    def require_read(self) -> None:
        """Raise 403 unless the caller may read jobs (``jobs:read`` or ``jobs:write``)."""
        if not self.access.can_read_jobs:
            raise PermissionDeniedException("You need the jobs:read permission.")

    def require_write(self) -> None:
        """Raise 403 unless the caller holds ``jobs:write``."""
        if not self.access.can_write_jobs:
            raise PermissionDeniedException("You need the jobs:write permission.")

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


def authenticate(
    connection: ASGIConnection[Any, Any, Any, Any], plugin_manager: pluggy.PluginManager
) -> Caller:
    """The caller of ``connection``; raise 401 when nobody is signed in.

    Calls the host's ``actor_access`` hook, which may query a database: call from a
    worker thread, not the event loop.
    """
    actor = actor_of(connection)
    if actor is None:
        raise NotAuthorizedException("Sign in to use the jobs API.")
    return Caller(actor=actor, access=access_of(actor, plugin_manager))
