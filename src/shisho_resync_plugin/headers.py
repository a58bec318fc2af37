"""Response headers of the plugin's own answers: the API's JSON and events, and the button's
static asset, sniff-proof and unframeable whatever the host sets.

A middleware on the plugin's two routers rather than ``response_headers``: it sits outside
the routes' exception handling, so the API's error answers (401, 403, 400, 404, 409, 429)
carry the headers too. A header the host (or a route) already set is left alone.
"""

from __future__ import annotations

from typing import Final

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

PLUGIN_RESPONSE_HEADERS: Final = {
    # A JSON answer or the button's module is what its Content-Type says, never what a
    # browser guesses from its bytes (an error text rendered as HTML, say).
    "X-Content-Type-Options": "nosniff",
    # Nothing of the plugin is a page: no content of its own may run or be framed.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}

STATIC_RESPONSE_HEADERS: Final = {
    **PLUGIN_RESPONSE_HEADERS,
    # A worker script's own CSP governs the worker: the shared event stream's SharedWorker
    # must import its sibling module and fetch the events route, both on this origin.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}


def plugin_response_headers(app: ASGIApp) -> ASGIApp:
    """Middleware adding :data:`PLUGIN_RESPONSE_HEADERS` to every HTTP response of ``app``."""
    return _with_headers(app, PLUGIN_RESPONSE_HEADERS)


def static_response_headers(app: ASGIApp) -> ASGIApp:
    """Middleware adding :data:`STATIC_RESPONSE_HEADERS` to the plugin's static assets."""
    return _with_headers(app, STATIC_RESPONSE_HEADERS)


def _with_headers(app: ASGIApp, added: dict[str, str]) -> ASGIApp:
    """Middleware adding ``added`` to every HTTP response of ``app`` that lacks them."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in added.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
