"""The Bookshelf app (README step 4): its own auth and pages, plus the resync plugin."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from bookshelf import hooks
from bookshelf.auth import auth_middleware, session_middleware
from bookshelf.pages import routes
from shisho_jobs import Database, JobService, get_plugin_manager
from shisho_jobs.config import database_url
from shisho_resync_plugin import ResyncConfig, ResyncPlugin

plugin_manager = get_plugin_manager(plugins=[hooks])
database = Database(database_url())

app = Litestar(
    route_handlers=routes,
    middleware=[session_middleware, auth_middleware],
    csrf_config=CSRFConfig(
        secret=os.environ.get("BOOKSHELF_SECRET", "change me: a long random string"),
        cookie_name="csrftoken",
        header_name="x-csrftoken",
    ),
    template_config=TemplateConfig(
        directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
    ),
    plugins=[
        ResyncPlugin(
            ResyncConfig(
                database=database,
                plugin_manager=plugin_manager,
                run_worker=False,
                job_page_url="/settings/jobs/{id}",
            )
        )
    ],
    state=State({"jobs": JobService(database, plugin_manager=plugin_manager)}),
)
