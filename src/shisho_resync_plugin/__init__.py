"""shisho_resync_plugin: the Litestar plugin of shisho-resync.

One line in a host: ``Litestar(plugins=[ResyncPlugin(ResyncConfig(database=...))])`` adds the
jobs API (CONTRACT section 4), live job events, the ``<shisho-resync-button>`` custom element
and the Jinja global ``shisho_nav_slot`` that renders navigation slots.
"""

from __future__ import annotations

from shisho_resync_plugin.config import ResyncConfig
from shisho_resync_plugin.nav import TOP_NAV_AFTER_LIBRARY_SWITCHER, render_nav_slot
from shisho_resync_plugin.plugin import ResyncPlugin
from shisho_resync_plugin.routes import (
    ROUTE_CREATE,
    ROUTE_EVENTS,
    ROUTE_LIST,
    ROUTE_LOGS,
    ROUTE_RETRIEVE,
)

__all__ = [
    "ROUTE_CREATE",
    "ROUTE_EVENTS",
    "ROUTE_LIST",
    "ROUTE_LOGS",
    "ROUTE_RETRIEVE",
    "TOP_NAV_AFTER_LIBRARY_SWITCHER",
    "ResyncConfig",
    "ResyncPlugin",
    "render_nav_slot",
]
