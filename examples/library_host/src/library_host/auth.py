"""Sign-in for the host: ``request.user`` and the page guards.

The session (:mod:`library_host.sessions`) holds only the user's id; the user
(with role and library access) is loaded for every request, so a change of
rights applies at once.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from library_host.users import User, load_user
from shisho_jobs import Database

SESSION_USER_KEY = "user_id"


class SessionUserMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the signed-in :class:`User`, or ``None`` for anonymous requests.

    Anonymous requests pass through: pages redirect them to the login form
    (:func:`login_required`) and the jobs API answers them with 401.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        user_id = connection.session.get(SESSION_USER_KEY) if connection.session else None
        user: User | None = None
        if isinstance(user_id, int):
            database: Database = connection.app.state.database
            user = await anyio.to_thread.run_sync(load_user, database, user_id)
        return AuthenticationResult(user=user, auth=None)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The signed-in user of this request, if any."""
    user = connection.scope.get("user")
    return user if isinstance(user, User) else None


def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the host's pages: anonymous visitors go to the login form."""
    if current_user(connection) is None:
        raise NotAuthorizedException()


def jobs_readers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the jobs pages: ``jobs:read`` or ``jobs:write``."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException()
    if not user.access.can_read_jobs:
        raise PermissionDeniedException("You may not see jobs.")
