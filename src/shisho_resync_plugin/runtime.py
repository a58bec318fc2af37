"""What the plugin's routes, templates and hooks share at run time, and how a route handler
receives it: the ``context`` dependency (:class:`RequestContext`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Generic, TypeAlias, TypeVar

import pluggy
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from shisho_jobs import Database, JobService
from shisho_resync_plugin.auth import Caller
from shisho_resync_plugin.cache import ListCache
from shisho_resync_plugin.config import ResyncConfig
from shisho_resync_plugin.events import EventHub

BUTTON_MODULE: Final = "resync-button.js"
T = TypeVar("T")
Q = TypeVar("Q")
Injected: TypeAlias = NamedDependency[SkipValidation[T]]
"""A dependency injected by its parameter's name, as it is: the plugin built it from values
Litestar has just checked, so it is not validated again."""


@dataclass(frozen=True, eq=False)
class ResyncRuntime:
    """The plugin's live objects, built once from a validated :class:`ResyncConfig`."""

    config: ResyncConfig
    database: Database
    owns_database: bool
    """Whether the plugin made the Database (from a URL) and so disposes of it."""
    plugin_manager: pluggy.PluginManager
    service: JobService
    hub: EventHub
    list_cache: ListCache

    @property
    def button_script_url(self) -> str:
        """URL of the button's ES module."""
        return f"{self.config.static_path}/{BUTTON_MODULE}"


@dataclass(frozen=True, slots=True)
class RequestContext(Generic[Q]):
    """What one request to a jobs route works with: the plugin's live objects, who is asking
    and what the route made of its query string (``None`` for a route without one).

    A route receives it as its one dependency: Litestar resolves dependencies that do not
    depend on each other in a task group, which costs more than a whole status request
    answered from the list cache.
    """

    runtime: ResyncRuntime
    caller: Caller
    query: Q
