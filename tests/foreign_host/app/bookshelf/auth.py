"""Sign-in: a server-side session holding the user's name, and ``request.user`` from it."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)
from litestar.middleware.session.server_side import ServerSideSessionConfig

from bookshelf.users import USERS


class SessionUserMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the signed-in ``User``, or ``None``."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        name = connection.session.get("user")
        return AuthenticationResult(user=USERS.get(name) if name else None, auth=None)


session_middleware = ServerSideSessionConfig().middleware
auth_middleware = DefineMiddleware(SessionUserMiddleware, exclude=["/static"])
