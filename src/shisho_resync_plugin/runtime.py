"""What the plugin's routes, templates and hooks share at run time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pluggy

from shisho_jobs import Database, JobService
from shisho_resync_plugin.cache import ListCache
from shisho_resync_plugin.config import ResyncConfig
from shisho_resync_plugin.events import EventHub

BUTTON_MODULE: Final = "resync-button.js"


@dataclass(frozen=True, eq=False)
class ResyncRuntime:
    """The plugin's live objects, built once from a validated :class:`ResyncConfig`.

    Handlers receive it as their ``runtime`` dependency (see
    :func:`shisho_resync_plugin.routes.build_jobs_router`).
    """

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
