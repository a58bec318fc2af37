"""Server-side login sessions: stored only for signed-in users, renamed at sign-in, swept hourly.

Litestar's server-side backend stores a session for every response, an empty one
for an anonymous visitor included: one file per request, kept for the session's
whole lifetime, an unauthenticated way to fill the disk. Here an empty session
is never stored, and expired sessions are removed on a schedule (the store only
drops one when it is read again, which an abandoned session never is).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import msgspec
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, ScopeSession

SESSION_STORE = "sessions"
"""Name of the app's store holding the sessions."""
SESSION_MAX_AGE = 7 * 24 * 3600  # seconds
ROTATE_SESSION_ID = "library_host_rotate_session_id"
"""Request-state flag set at sign-in: the response stores the session under a new id."""

_log = logging.getLogger(__name__)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions whose id changes when someone signs in, stored only when not empty.

    Litestar keeps the id the browser sent; an id planted before sign-in
    (session fixation) would then carry the signed-in session. At sign-in the
    old id's data is deleted and the session is stored under a fresh id.
    """

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        if connection.state.get(ROTATE_SESSION_ID):
            # store_in_message() asks once per response: one fresh id.
            new_id: str = connection.state.setdefault(
                f"{ROTATE_SESSION_ID}.new", self.generate_session_id()
            )
            return new_id
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        old_id = connection.cookies.get(self.config.key)
        if scope_session is Empty or not scope_session:
            if old_id:
                # Signed out, or an id the store does not know (expired, made up):
                # drop what it names and tell the browser to forget it.
                await super().store_in_message(Empty, message, connection)
            return  # an anonymous visitor: nothing stored, no cookie set
        if connection.state.get(ROTATE_SESSION_ID) and old_id:
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    """``ServerSideSessionConfig`` using :class:`RotatingSessionBackend`."""

    _backend_class = RotatingSessionBackend


def session_config(*, secure: bool) -> RotatingSessionConfig:
    """The host's session settings.

    Args:
        secure: send the cookie over HTTPS only (``SHISHO_SECURE_COOKIES``).
    """
    return RotatingSessionConfig(
        max_age=SESSION_MAX_AGE, samesite="lax", secure=secure, store=SESSION_STORE
    )


async def remove_expired_sessions(store: FileStore) -> int:
    """Delete the expired sessions of ``store``; how many there were.

    ``FileStore.delete_expired()`` gives up at the first file it cannot decode,
    such as a session being written right now; this skips that one and goes on.
    """
    removed = 0
    async for file in store.path.iterdir():
        try:
            stored = StorageObject.from_bytes(await file.read_bytes())
        except (OSError, msgspec.DecodeError):
            continue  # gone since listed, or half-written: the next sweep sees it whole
        if stored.expired:
            await file.unlink(missing_ok=True)
            removed += 1
    return removed


async def _sweep_forever(store: FileStore, interval: float) -> None:
    while True:
        # First wait: the store makes its folder when the app has started.
        await anyio.sleep(interval)
        try:
            await remove_expired_sessions(store)
        except OSError:  # the folder itself is unreadable: say so, keep serving
            _log.warning("Removing expired sessions failed; trying again later", exc_info=True)


def expired_session_sweeper(
    interval: float,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan that removes expired sessions every ``interval`` seconds while the app runs.

    Args:
        interval: seconds between two sweeps (``SHISHO_SESSION_SWEEP_SECONDS``).
    """

    @asynccontextmanager
    async def sweeping(app: Litestar) -> AsyncIterator[None]:
        store = app.stores.get(SESSION_STORE)
        if not isinstance(store, FileStore):
            raise TypeError(f"cannot sweep a session store of type {type(store).__name__}")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_sweep_forever, store, interval)
            yield
            tasks.cancel_scope.cancel()

    return sweeping
