"""The reference host app: Litestar + Jinja, with the resync plugin installed like a third party.

``create_app()`` reads the environment (see :mod:`library_host.settings`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig

from library_host.auth import SessionUserMiddleware
from library_host.database import get_database
from library_host.login_throttle import LoginThrottle
from library_host.pages import auth_router, pages_router
from library_host.security_headers import add_security_headers
from library_host.sessions import SESSION_STORE, expired_session_sweeper, session_config
from library_host.settings import HostSettings
from library_host.users import prepare_sign_in
from shisho_jobs import JobService, get_plugin_manager
from shisho_resync_plugin import ResyncConfig, ResyncPlugin

PACKAGE_DIR = Path(__file__).resolve().parent
SECRET_FILE_NAME = "csrf-secret"
STATIC_PATH = "/static/host"


def _secret(settings: HostSettings) -> str:
    """The CSRF signing secret, made once and kept in the data dir so restarts keep forms valid."""
    path = settings.data_dir / SECRET_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(settings: HostSettings | None = None) -> Litestar:
    """The host app for ``settings`` (default: from the environment)."""
    settings = settings or HostSettings.from_env()
    database = get_database(settings.database_url)
    # Built-in job types plus every installed plugin, including this host's
    # own hooks (entry point ``shisho: library_host``).
    plugin_manager = get_plugin_manager()
    sessions = session_config(secure=settings.secure_cookies)
    prepare_sign_in()
    return Litestar(
        route_handlers=[
            auth_router,
            pages_router,
            create_static_files_router(
                path=STATIC_PATH, directories=[PACKAGE_DIR / "static"], include_in_schema=False
            ),
        ],
        middleware=[
            sessions.middleware,
            DefineMiddleware(SessionUserMiddleware, exclude=[STATIC_PATH]),
        ],
        stores={SESSION_STORE: FileStore(settings.sessions_dir, create_directories=True)},
        lifespan=[expired_session_sweeper(settings.session_sweep_seconds)],
        before_send=[add_security_headers],
        csrf_config=CSRFConfig(
            secret=_secret(settings),
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_samesite="lax",
            cookie_secure=settings.secure_cookies,
        ),
        template_config=TemplateConfig(
            directory=PACKAGE_DIR / "templates", engine=JinjaTemplateEngine
        ),
        plugins=[
            ResyncPlugin(
                ResyncConfig(
                    database=database,
                    plugin_manager=plugin_manager,
                    run_worker=settings.inprocess_worker,
                    job_page_url="/settings/jobs/{id}",
                    api_prefix="/api",
                    # Our actor_access hook returns the signed-in user's loaded access.
                    actor_access_is_fast=True,
                )
            )
        ],
        state=State(
            {
                "database": database,
                "settings": settings,
                "jobs": JobService(database, plugin_manager=plugin_manager),
                "login_throttle": LoginThrottle(),
            }
        ),
    )
