"""What the plugin's routes, templates and hooks share at run time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pluggy

from shisho_jobs import Database, JobService
from shisho_resync_plugin.cache import ListCache
from shisho_resync_plugin.config import ResyncConfig
from shisho_resync_plugin.events import EventHub

BUTTON_MODULE = "resync-button.js"


@dataclass
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

    def __copy__(self) -> ResyncRuntime:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ResyncRuntime:
        # Litestar copies route ``opt`` values; live objects (engine, hub) are shared.
        return self
