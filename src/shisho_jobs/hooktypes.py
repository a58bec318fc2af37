"""Values exchanged through the hook API (see ``hookspecs.py`` and docs/hooks.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from shisho_jobs.visibility import can_see

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext

JOBS_READ = "jobs:read"
JOBS_WRITE = "jobs:write"


class Library(msgspec.Struct, frozen=True, kw_only=True):
    """A library as the host describes it."""

    id: int
    name: str
    path: str | None = None
    """Folder of the library's files, if it has one on this machine."""


JobHandler = Callable[["JobContext"], None]
"""Runs one job. Raise to fail it; return to complete it. Check ``context.cancelled``."""


@dataclass(frozen=True)
class JobTypeSpec:
    """A job type: its name, payload struct and handler."""

    name: str
    """The value of ``jobs.type``, for example ``"scan"``."""
    payload_type: type[msgspec.Struct]
    """The msgspec struct that ``jobs.data`` holds for this type."""
    handler: JobHandler
    """Called by a worker with the job's context."""
    exclusive: bool = False
    """At most one active job per scope: an active global job blocks every library's,
    and any active library job blocks a global one (scans are exclusive)."""
    plugin: str | None = None
    """Name of the plugin that registered the type (shown in logs)."""


@dataclass(frozen=True)
class ActorAccess:
    """What an actor (a signed-in user, usually) may do, as the host answers it."""

    permissions: frozenset[str] = frozenset()
    """Permission names such as ``jobs:read`` and ``jobs:write``."""
    library_ids: frozenset[int] | None = frozenset()
    """Libraries the actor may access; ``None`` means every library."""

    def has(self, permission: str) -> bool:
        """Whether the actor holds ``permission``."""
        return permission in self.permissions

    def can_access_library(self, library_id: int | None) -> bool:
        """Whether the actor may see ``library_id``; global (``None``) is visible to all."""
        return can_see(self.library_ids, library_id)

    @property
    def can_read_jobs(self) -> bool:
        """``jobs:read`` or ``jobs:write``: whoever may start a job may see how it went."""
        return self.has(JOBS_READ) or self.has(JOBS_WRITE)

    @property
    def can_write_jobs(self) -> bool:
        """``jobs:write``."""
        return self.has(JOBS_WRITE)


NO_ACCESS = ActorAccess()


@dataclass(frozen=True)
class NavContext:
    """Where a navigation slot is being rendered."""

    actor: Any
    """The host's user object (or ``None`` when nobody is signed in)."""
    access: ActorAccess
    """What the actor may do."""
    library_id: int | None = None
    """The library selected in the host's UI, if any."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else the host passes to its slots (request path, CSRF token...)."""


@dataclass(frozen=True)
class NavItem:
    """Something a plugin puts into a named navigation slot of the host's UI."""

    html: str
    """Markup to render in the slot; the contributor escapes what it interpolates."""
    order: int = 0
    """Lower values render first within the slot."""
    scripts: tuple[str, ...] = ()
    """URLs of scripts the item needs (module scripts), rendered once per page."""
