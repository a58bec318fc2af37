"""Response headers that keep the host's pages out of frames and its files from being sniffed.

A ``before_send`` hook, which sees every response the app sends, rather than
layered ``response_headers`` or a middleware: those miss the error responses
(a route's 400, the router's 404), which are pages of the host too.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

SECURITY_HEADERS: dict[str, str] = {
    # No page of the host may be framed (the resync button, the logout form: clickjacking).
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    # A file is what its Content-Type says, never what a browser guesses from its bytes.
    "X-Content-Type-Options": "nosniff",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add :data:`SECURITY_HEADERS` to an HTTP response that does not set them itself."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
