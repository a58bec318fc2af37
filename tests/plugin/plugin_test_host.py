"""A tiny host for testing the plugin: header/cookie sign-in, four users, CSRF on.

Used by the API tests (through Litestar's test client), the browser tests and
bench/api.py (served by uvicorn).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from litestar import Litestar, MediaType, get
from litestar.config.csrf import CSRFConfig
from litestar.params import Parameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from polling import wait_until
from shisho_jobs import ActorAccess, Database, JobService, Library, get_plugin_manager, hookimpl
from shisho_jobs.schema import Base, owned_tables
from shisho_resync_plugin import ResyncConfig, ResyncPlugin

USER_HEADER = "x-test-user"
USER_COOKIE = "test_user"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"


@dataclass(frozen=True)
class User:
    """A signed-in user of the test host."""

    name: str


ACCESS: dict[str, ActorAccess] = {
    # jobs:read only, every library.
    "viewer": ActorAccess(permissions=frozenset({"jobs:read"}), library_ids=None),
    # Every permission, every library.
    "writer": ActorAccess(permissions=frozenset({"jobs:read", "jobs:write"}), library_ids=None),
    # jobs:write without jobs:read (may still read), library 1 only.
    "limited": ActorAccess(permissions=frozenset({"jobs:write"}), library_ids=frozenset({1})),
    # Signed in, but no permissions at all.
    "nobody": ActorAccess(),
}


FAILING_LIBRARY = 3
"""Its scan fails, like the demo's `Broken` library."""


class TestHostHooks:
    """The host's answers: who may do what, its libraries 1-3, and a scanner."""

    @hookimpl
    def actor_access(self, actor: Any) -> ActorAccess | None:
        return ACCESS.get(actor.name) if isinstance(actor, User) else None

    @hookimpl
    def get_library(self, library_id: int) -> Library | None:
        return Library(id=library_id, name=f"Library {library_id}") if library_id <= 3 else None

    @hookimpl
    def list_libraries(self) -> list[Library]:
        return [Library(id=i, name=f"Library {i}") for i in (1, 2, 3)]

    @hookimpl
    def scan_library(self, library: Library, context: Any) -> dict[str, int]:
        if library.id == FAILING_LIBRARY:
            raise RuntimeError("the library's folder is missing")
        return {"books": 0}


def sign_in_middleware(app: ASGIApp) -> ASGIApp:
    """Sets ``scope["user"]`` from the ``x-test-user`` header or the ``test_user`` cookie."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = None
            for key, value in scope["headers"]:
                if key == USER_HEADER.encode():
                    name = value.decode()
                elif key == b"cookie":
                    for part in value.decode().split(";"):
                        cookie_name, _, cookie_value = part.strip().partition("=")
                        if cookie_name == USER_COOKIE and name is None:
                            name = cookie_value
            scope["user"] = User(name) if name else None
        await app(scope, receive, send)

    return middleware


TEMPLATES = Path(__file__).parent / "templates"


@get("/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    """A trivial JSON route (the benchmark's baseline)."""
    return {"status": "ok"}


@get("/libraries/{library_id:int}", sync_to_thread=False)
def library_page(
    library_id: Annotated[int, Parameter(description="The selected library.")],
    second_slot: Annotated[bool, Parameter(description="Render the slot twice.")] = False,
) -> Template:
    """A page with the top nav and its slot after the library switcher."""
    return Template("library.html", context={"library_id": library_id, "second_slot": second_slot})


@get("/settings/jobs/{job_id:int}", sync_to_thread=False, media_type=MediaType.HTML)
def job_page(job_id: Annotated[int, Parameter(description="The job.")]) -> str:
    """Where the button sends the user for an active or failed scan."""
    return f"<!doctype html><title>Job {job_id}</title><h1 data-testid='job-page'>{job_id}</h1>"


def make_app(database: Database | str, **config: Any) -> tuple[Litestar, ResyncPlugin]:
    """The test host with the plugin; ``config`` overrides ResyncConfig fields."""
    plugin_manager = get_plugin_manager(load_entry_points=False, plugins=[TestHostHooks()])
    config.setdefault("run_worker", False)
    plugin = ResyncPlugin(ResyncConfig(database=database, plugin_manager=plugin_manager, **config))
    app = Litestar(
        route_handlers=[ping, library_page, job_page],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        plugins=[plugin],
        middleware=[sign_in_middleware],
        csrf_config=CSRFConfig(
            secret="test-secret", cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER
        ),
    )
    return app, plugin


class ApiClient:
    """Litestar's test client with sign-in and the CSRF dance done for each call."""

    def __init__(self, client: TestClient[Any], plugin: ResyncPlugin) -> None:
        self.client = client
        self.plugin = plugin

    def _csrf(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            self.client.get("/ping")
        return str(self.client.cookies[CSRF_COOKIE])

    def request(self, method: str, url: str, user: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers[USER_HEADER] = user
        if method != "GET":
            headers.setdefault(CSRF_HEADER, self._csrf())
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, user: str | None = "writer", **kwargs: Any) -> Any:
        return self.request("GET", url, user, **kwargs)

    def post(self, url: str, user: str | None = "writer", **kwargs: Any) -> Any:
        return self.request("POST", url, user, **kwargs)


def create_schema(database: Database) -> None:
    """The host's libraries 1-3 and the jobs tables (for a database made by hand)."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE libraries (id INTEGER PRIMARY KEY, name TEXT)")
        connection.exec_driver_sql("INSERT INTO libraries VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    Base.metadata.create_all(database.engine, tables=owned_tables())


@dataclass
class Site:
    """The running test host and the service behind it."""

    base_url: str
    service: JobService
    database: Database


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Litestar, plugin: ResyncPlugin, *, deadline: float = 20.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a background thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped before it started")
        return bool(server.started)

    wait_until(started, timeout=deadline, what="the test server starts")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # Open event streams would hold uvicorn's graceful shutdown up: end them first.
        plugin.runtime.hub.close_streams_threadsafe()
        server.should_exit = True
        thread.join(timeout=deadline)


def app_from_env() -> Litestar:
    """App factory for servers in other processes: ``SHISHO_DATABASE_URL`` and
    ``SHISHO_TEST_KEEPALIVE`` (seconds) configure it."""
    app, _ = make_app(
        os.environ["SHISHO_DATABASE_URL"],
        keepalive_interval=float(os.environ.get("SHISHO_TEST_KEEPALIVE", "15")),
    )
    return app
