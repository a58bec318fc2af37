"""Response headers of the plugin's own answers: the API's JSON and events, and the button's
static assets, sniff-proof and unframeable whatever the host sets.

A middleware on the plugin's two routers rather than ``response_headers``: it sits outside
the routes' exception handling, so the API's error answers (401, 403, 400, 404, 409, 429)
carry the headers too. A header the host (or a route) already set is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

ASSET_HEADERS: Final = {
    # A JSON answer or the button's module is what its Content-Type says, never what a
    # browser guesses from its bytes (an error text rendered as HTML, say).
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A worker script's own CSP governs the SharedWorker it starts, which imports its sibling
    # module and fetches the event stream: 'self' allows exactly that (`'none'` would cut
    # every button off from live events).
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}
"""Headers of the static assets (the button's modules and the shared stream's worker)."""

API_HEADERS: Final = {
    **ASSET_HEADERS,
    # No API answer is a page: nothing in it may load or run, nor be framed.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
"""Headers of every answer of the jobs API."""


def response_headers(headers: Mapping[str, str]) -> Callable[[ASGIApp], ASGIApp]:
    """A middleware adding ``headers`` to every HTTP response that does not set them itself."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    present = MutableScopeHeaders.from_message(message)
                    for name, value in headers.items():
                        if name not in present:
                            present[name] = value
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return wrap
