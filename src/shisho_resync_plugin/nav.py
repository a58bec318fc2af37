"""Navigation injection: the button's ``nav_items`` contribution and the Jinja global
``shisho_nav_slot(slot, library_id=None)`` that renders any slot in the host's templates."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any, Final

import pluggy
from markupsafe import Markup

from shisho_jobs.hookimpl import hookimpl
from shisho_jobs.hooktypes import NavContext, NavItem
from shisho_resync_plugin.auth import access_of, actor_of

TOP_NAV_AFTER_LIBRARY_SWITCHER: Final = "top_nav.after_library_switcher"
"""The top-nav slot right after the host's library switcher."""

NAV_PLUGIN_NAME: Final = "shisho_resync_plugin.nav"
TEMPLATE_GLOBAL: Final = "shisho_nav_slot"
_RENDERED_SCRIPTS_KEY: Final = "shisho_nav_rendered_scripts"


class ResyncButtonNav:
    """Contributes ``<shisho-resync-button>`` to the slot after the library switcher.

    Args:
        script_url: URL of the button's ES module.
        api_base: the jobs API prefix (``/api``).
        job_page_url: the host's job page, with ``{id}``.
        csrf_cookie: name of the CSRF cookie the button reads.
        csrf_header: header the button sends the token in.
    """

    def __init__(
        self,
        *,
        script_url: str,
        api_base: str,
        job_page_url: str,
        csrf_cookie: str = "csrftoken",
        csrf_header: str = "x-csrftoken",
    ) -> None:
        self.script_url = script_url
        self.api_base = api_base
        self.job_page_url = job_page_url
        self.csrf_cookie = csrf_cookie
        self.csrf_header = csrf_header

    @hookimpl
    def nav_items(self, slot: str, context: NavContext) -> list[NavItem]:
        """The button, only with a selected library the actor may write jobs for."""
        library_id = context.library_id
        if slot != TOP_NAV_AFTER_LIBRARY_SWITCHER or library_id is None:
            return []
        if not context.access.can_write_jobs or not context.access.can_access_library(library_id):
            return []
        return [NavItem(html=self.button_html(library_id), scripts=(self.script_url,))]

    def button_html(self, library_id: int) -> str:
        """The custom element for one library."""
        attributes = {
            "library-id": str(int(library_id)),
            "api-base": self.api_base,
            "job-url": self.job_page_url,
            "csrf-cookie": self.csrf_cookie,
            "csrf-header": self.csrf_header,
        }
        rendered = " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items())
        return f"<shisho-resync-button {rendered}></shisho-resync-button>"


def render_nav_slot(
    plugin_manager: pluggy.PluginManager,
    connection: Any,
    slot: str,
    library_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """HTML of every item contributed to ``slot``, each module script once per request.

    Args:
        plugin_manager: whose ``nav_items`` and ``actor_access`` hooks answer.
        connection: the current request (its ``user`` is the actor), or ``None``.
        slot: the slot's name.
        library_id: the library selected in the page, if any.
        extra: anything else for the contributors (``NavContext.extra``).
    """
    actor = actor_of(connection) if connection is not None else None
    context = NavContext(
        actor=actor,
        access=access_of(actor, plugin_manager),
        library_id=library_id,
        extra={"request": connection, **(extra or {})},
    )
    contributions: list[list[NavItem]] = plugin_manager.hook.nav_items(slot=slot, context=context)
    items = sorted((item for items in contributions for item in items), key=lambda i: i.order)
    rendered: set[str] = set()
    if connection is not None:
        rendered = connection.scope.setdefault(_RENDERED_SCRIPTS_KEY, set())
    # Items first, scripts after them: an item stays the slot's first element, right
    # after whatever precedes the slot (the library switcher for the top nav).
    parts = [item.html for item in items]
    for item in items:
        for script in item.scripts:
            if script not in rendered:
                rendered.add(script)
                parts.append(f'<script type="module" src="{escape(script)}"></script>')
    return "".join(parts)


def make_template_global(plugin_manager: pluggy.PluginManager) -> Callable[..., Any]:
    """The Jinja global ``shisho_nav_slot(slot, library_id=None, **extra)``.

    Registered with ``register_template_callable``, which passes the Jinja context first;
    Litestar puts the request into every template's context.
    """

    def shisho_nav_slot(
        template_context: Any, slot: str, library_id: int | None = None, **extra: Any
    ) -> Markup:
        request = template_context.get("request")
        # Rendered HTML is built from escaped values by each contributor.
        return Markup(render_nav_slot(plugin_manager, request, slot, library_id, extra))

    return shisho_nav_slot
