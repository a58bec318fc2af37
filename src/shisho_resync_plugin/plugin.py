"""ResyncPlugin: adds the jobs API, live events, the nav button and its asset to a Litestar app."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Final

import anyio.to_thread
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.exceptions import ImproperlyConfiguredException
from litestar.plugins import InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from shisho_jobs import Database, JobService, Worker, get_plugin_manager
from shisho_jobs.waiting_watch import WaitingWatch
from shisho_resync_plugin.cache import ListCache
from shisho_resync_plugin.checks import check_csrf, warn_about_unanswered_access_hook
from shisho_resync_plugin.config import ResyncConfig
from shisho_resync_plugin.events import EventHub
from shisho_resync_plugin.headers import ASSET_HEADERS, response_headers
from shisho_resync_plugin.nav import (
    NAV_PLUGIN_NAME,
    TEMPLATE_GLOBAL,
    ResyncButtonNav,
    make_template_global,
)
from shisho_resync_plugin.routes import build_jobs_router
from shisho_resync_plugin.runtime import ResyncRuntime

STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_ROUTE: Final = "shisho_resync:static"
_EXIT_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class ResyncPlugin(InitPlugin):
    """The Litestar side of shisho-resync, added with one line::

        Litestar(plugins=[ResyncPlugin(ResyncConfig(database="sqlite:///var/shisho.db"))])

    Args:
        config: the plugin's settings; checked when the app is built.
    """

    def __init__(self, config: ResyncConfig) -> None:
        self.config = config
        self._runtime: ResyncRuntime | None = None
        self._worker: Worker | None = None
        self._waiting_watch: WaitingWatch | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._remove_cache_listener: Callable[[], None] | None = None

    @property
    def runtime(self) -> ResyncRuntime:
        """The database, service, plugin manager and event hub in use (after app init)."""
        if self._runtime is None:
            raise RuntimeError("ResyncPlugin is not attached to an app yet")
        return self._runtime

    @property
    def worker(self) -> Worker | None:
        """The in-process ``shisho_jobs.Worker`` while the app runs (``run_worker=True``)."""
        return self._worker

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Validate the config, then append routes, static files, template global, hooks."""
        config = self.config
        config.validate()
        check_csrf(
            app_config.csrf_config, require_csrf=config.require_csrf, api_prefix=config.api_prefix
        )
        runtime = self._runtime = self._build_runtime()
        warn_about_unanswered_access_hook(runtime.plugin_manager)

        if config.register_nav_items and runtime.plugin_manager.get_plugin(NAV_PLUGIN_NAME) is None:
            csrf = app_config.csrf_config
            runtime.plugin_manager.register(
                ResyncButtonNav(
                    script_url=runtime.button_script_url,
                    api_base=config.api_prefix,
                    job_page_url=config.job_page_url,
                    csrf_cookie=csrf.cookie_name if csrf else "csrftoken",
                    csrf_header=csrf.header_name if csrf else "x-csrftoken",
                ),
                name=NAV_PLUGIN_NAME,
            )
        self._install_template_global(app_config)

        app_config.route_handlers.append(build_jobs_router(runtime))
        app_config.route_handlers.append(
            create_static_files_router(
                path=config.static_path,
                directories=[STATIC_DIR],
                name=STATIC_ROUTE,
                include_in_schema=False,
                middleware=[response_headers(ASSET_HEADERS)],
            )
        )
        app_config.on_startup.append(self._on_startup)
        app_config.on_shutdown.append(self._on_shutdown)
        return app_config

    # --- building -------------------------------------------------------------------------

    def _build_runtime(self) -> ResyncRuntime:
        config = self.config
        owns_database = isinstance(config.database, str)
        database = (
            Database(config.database) if isinstance(config.database, str) else config.database
        )
        plugin_manager = config.plugin_manager or get_plugin_manager()
        list_cache = ListCache(config.list_cache_seconds)
        return ResyncRuntime(
            config=config,
            database=database,
            owns_database=owns_database,
            plugin_manager=plugin_manager,
            service=JobService(database, plugin_manager=plugin_manager),
            hub=EventHub(
                database,
                poll_interval=config.sqlite_poll_interval,
                fallback_interval=config.postgres_fallback_interval,
                always_watch=list_cache.enabled,
                on_cursor=list_cache.saw_events_up_to,
            ),
            list_cache=list_cache,
        )

    def _install_template_global(self, app_config: AppConfig) -> None:
        wanted = self.config.nav_template_global
        if wanted is False:
            return
        template_config = app_config.template_config
        engine = getattr(template_config, "instance", None) or getattr(
            template_config, "engine", None
        )
        is_jinja = isinstance(engine, JinjaTemplateEngine) or (
            isinstance(engine, type) and issubclass(engine, JinjaTemplateEngine)
        )
        if not isinstance(template_config, TemplateConfig) or not is_jinja:
            if wanted:
                raise ImproperlyConfiguredException(
                    "ResyncPlugin: nav_template_global=True needs a Jinja template config: "
                    "Litestar(template_config=TemplateConfig(directory=..., "
                    "engine=JinjaTemplateEngine))."
                )
            return
        template_global = make_template_global(self.runtime.plugin_manager)
        if template_config.instance is not None:
            template_config.instance.register_template_callable(TEMPLATE_GLOBAL, template_global)
            return
        host_callback = template_config.engine_callback

        def engine_callback(template_engine: Any) -> None:
            template_engine.register_template_callable(TEMPLATE_GLOBAL, template_global)
            if host_callback is not None:
                host_callback(template_engine)

        template_config.engine_callback = engine_callback

    # --- life cycle -----------------------------------------------------------------------

    async def _on_startup(self, app: Litestar) -> None:
        runtime = self.runtime
        if runtime.list_cache.enabled:
            self._remove_cache_listener = runtime.database.on_commit(runtime.list_cache.saw_commit)
        await runtime.hub.start()
        if self.config.close_streams_on_signal:
            self._chain_exit_signals()
        if self.config.run_worker:
            self._worker = _make_worker(runtime, self.config)
            await anyio.to_thread.run_sync(self._worker.start)
        # Also with an in-process worker: the host may keep running after it stopped.
        self._waiting_watch = WaitingWatch(
            runtime.service, interval=self.config.waiting_refresh_interval
        )
        self._waiting_watch.start()

    async def _on_shutdown(self, app: Litestar) -> None:
        runtime = self.runtime
        self._restore_exit_signals()
        if self._remove_cache_listener is not None:
            self._remove_cache_listener()
            self._remove_cache_listener = None
        await runtime.hub.stop()
        if self._waiting_watch is not None:
            watch, self._waiting_watch = self._waiting_watch, None
            await anyio.to_thread.run_sync(watch.stop)
        if self._worker is not None:
            worker, self._worker = self._worker, None
            await anyio.to_thread.run_sync(worker.stop)
        if runtime.owns_database:
            runtime.database.dispose()

    def _chain_exit_signals(self) -> None:
        """Close the event streams as soon as the server is told to stop.

        uvicorn (and others) wait for open responses before running shutdown hooks, so an
        open event stream would hold the shutdown up until its client leaves.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        hub = self.runtime.hub
        for sig in _EXIT_SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue  # default or ignored: the process ends without a graceful shutdown

            def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                hub.close_streams_threadsafe()
                previous(signum, frame)

            self._previous_handlers[sig] = previous
            signal.signal(sig, handler)

    def _restore_exit_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous_handlers.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, previous)
        self._previous_handlers.clear()


def _make_worker(runtime: ResyncRuntime, config: ResyncConfig) -> Worker:
    """The in-process worker, on the plugin's database and plugin manager."""
    return Worker(
        runtime.database,
        plugin_manager=runtime.plugin_manager,
        concurrency=config.worker_concurrency,
        **config.worker_options,
    )
