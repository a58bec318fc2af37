"""Installing the plugin: config validation, CSRF, the nav slot in templates, the static
module, the in-process worker."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jinja2 import DictLoader, Environment
from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import ImproperlyConfiguredException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig
from litestar.testing import TestClient
from plugin_test_host import USER_HEADER, ApiClient, make_app

from polling import wait_until
from shisho_jobs import Database, JobStatus, get_plugin_manager, hookimpl
from shisho_jobs.hooktypes import ActorAccess, NavContext
from shisho_resync_plugin import TOP_NAV_AFTER_LIBRARY_SWITCHER, ResyncConfig, ResyncPlugin

CSRF = CSRFConfig(secret="s")
BUTTON = re.compile(r"<shisho-resync-button [^>]*library-id=\"(\d+)\"")
SCRIPT = '<script type="module" src="/static/shisho-resync/resync-button.js"></script>'


def _build(sqlite_url: str, csrf: CSRFConfig | None = CSRF, **config: Any) -> Litestar:
    plugin = ResyncPlugin(ResyncConfig(database=sqlite_url, run_worker=False, **config))
    return Litestar(plugins=[plugin], csrf_config=csrf)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"database": ""}, "database"),
        ({"api_prefix": "api"}, "api_prefix"),
        ({"api_prefix": "/api/"}, "api_prefix"),
        ({"job_page_url": "/jobs/"}, "job_page_url"),
        ({"worker_concurrency": 0}, "worker_concurrency"),
        ({"keepalive_interval": 0}, "keepalive_interval"),
        ({"static_path": "static"}, "static_path"),
        ({"replay_limit": 0}, "replay_limit"),
    ],
)
def test_a_wrong_config_fails_at_start_naming_the_field(
    sqlite_url: str, config: dict[str, Any], field: str
) -> None:
    settings = {"database": sqlite_url, "run_worker": False, **config}
    with pytest.raises(ImproperlyConfiguredException, match=f"ResyncConfig.{field} "):
        Litestar(plugins=[ResyncPlugin(ResyncConfig(**settings))], csrf_config=CSRF)


def test_an_app_without_csrf_protection_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ImproperlyConfiguredException, match="csrf_config"):
        _build(sqlite_url, csrf=None)
    # An app that authenticates requests otherwise may opt out.
    assert isinstance(_build(sqlite_url, csrf=None, require_csrf=False), Litestar)


def test_asking_for_the_template_global_without_jinja_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ImproperlyConfiguredException, match="Jinja template config"):
        _build(sqlite_url, nav_template_global=True)


def test_routes_are_named_and_mounted_under_the_prefix(sqlite_url: str) -> None:
    app = _build(sqlite_url, api_prefix="/internal/v2")
    assert app.route_reverse("shisho_jobs:list") == "/internal/v2/jobs"
    assert app.route_reverse("shisho_jobs:retrieve", job_id="7") == "/internal/v2/jobs/7"
    assert app.route_reverse("shisho_jobs:events") == "/internal/v2/jobs/events"


@pytest.mark.parametrize(
    ("user", "library_id", "shown"),
    [
        ("writer", 1, True),
        ("limited", 1, True),
        ("limited", 2, False),  # no access to library 2
        ("viewer", 1, False),  # no jobs:write
        (None, 1, False),  # anonymous
    ],
)
def test_nav_slot_shows_the_button_only_to_writers_of_that_library(
    api: ApiClient, user: str | None, library_id: int, shown: bool
) -> None:
    page = api.get(f"/libraries/{library_id}", user=user)
    assert page.status_code == 200
    html = page.text
    assert BUTTON.findall(html) == ([str(library_id)] if shown else [])
    assert (SCRIPT in html) is shown
    if shown:
        switcher = html.index('data-testid="library-switcher"')
        assert switcher < html.index("<shisho-resync-button")  # right after the switcher
        assert 'job-url="/settings/jobs/{id}"' in html
        assert 'api-base="/api"' in html


def test_nav_slot_renders_the_module_script_once_per_page(api: ApiClient) -> None:
    html = api.get("/libraries/1?second_slot=true").text
    assert len(BUTTON.findall(html)) == 2
    assert html.count(SCRIPT) == 1


def test_nav_items_hook_answers_only_for_its_slot_and_a_selected_library(
    api: ApiClient,
) -> None:
    manager = api.plugin.runtime.plugin_manager
    writer = ActorAccess(permissions=frozenset({"jobs:write"}), library_ids=None)

    def items(slot: str, library_id: int | None) -> list[Any]:
        context = NavContext(actor=object(), access=writer, library_id=library_id)
        return [i for found in manager.hook.nav_items(slot=slot, context=context) for i in found]

    assert items("sidebar", 1) == []
    assert items(TOP_NAV_AFTER_LIBRARY_SWITCHER, None) == []
    (item,) = items(TOP_NAV_AFTER_LIBRARY_SWITCHER, 2)
    assert 'library-id="2"' in item.html
    assert item.scripts == ("/static/shisho-resync/resync-button.js",)


def test_the_button_module_is_served(api: ApiClient) -> None:
    response = api.get("/static/shisho-resync/resync-button.js", user=None)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert 'customElements.define("shisho-resync-button"' in response.text


def test_in_process_worker_runs_created_scans(database: Database) -> None:
    app, plugin = make_app(database, run_worker=True, worker_options={"poll_interval": 0.05})
    with TestClient(app) as client:
        client.get("/ping")
        headers = {USER_HEADER: "writer", "x-csrftoken": client.cookies["csrftoken"]}
        done = client.post(
            "/api/jobs", json={"type": "scan", "data": {}, "library_id": 2}, headers=headers
        )
        failing = client.post(
            "/api/jobs", json={"type": "scan", "data": {}, "library_id": 3}, headers=headers
        )
        assert done.status_code == failing.status_code == 201
        service = plugin.runtime.service
        wait_until(
            lambda: all(
                service.retrieve_job(job.json()["id"]).status
                in {JobStatus.COMPLETED, JobStatus.FAILED}
                for job in (done, failing)
            ),
            timeout=20,
            what="the in-process worker finishes the scans",
        )
        assert plugin.worker is not None
    assert service.retrieve_job(done.json()["id"]).status == JobStatus.COMPLETED
    assert service.retrieve_job(failing.json()["id"]).status == JobStatus.FAILED
    assert plugin.worker is None  # stopped with the app


def test_default_plugin_manager_is_made_when_none_is_given(sqlite_url: str) -> None:
    plugin = ResyncPlugin(ResyncConfig(database=Database(sqlite_url), run_worker=False))
    Litestar(plugins=[plugin], csrf_config=CSRF)
    assert plugin.runtime.plugin_manager.get_plugin("shisho_resync_plugin.nav") is not None
    assert (
        get_plugin_manager(load_entry_points=False).get_plugin("shisho_resync_plugin.nav") is None
    )


def test_template_global_reaches_a_host_engine_instance_and_keeps_its_callback(
    sqlite_url: str,
) -> None:
    page = '{{ shisho_nav_slot("top_nav.after_library_switcher", library_id=2) }}|{{ host }}'

    @get("/page", sync_to_thread=False)
    def render_page() -> Template:
        return Template("page.html")

    def host_callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["host"] = "host global"

    for template_config in (
        TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(
                Environment(loader=DictLoader({"page.html": page}), autoescape=True)
            )
        ),
        TemplateConfig(
            engine=JinjaTemplateEngine(
                engine_instance=Environment(loader=DictLoader({"page.html": page}), autoescape=True)
            ),
            engine_callback=host_callback,
        ),
    ):
        manager = get_plugin_manager(load_entry_points=False, plugins=[_Writer()])
        plugin = ResyncPlugin(
            ResyncConfig(database=sqlite_url, run_worker=False, plugin_manager=manager)
        )
        app = Litestar(
            [render_page],
            plugins=[plugin],
            csrf_config=CSRF,
            template_config=template_config,
            middleware=[_signed_in],
        )
        with TestClient(app) as client:
            html = client.get("/page").text
        assert BUTTON.findall(html) == ["2"]
        if template_config.engine_callback is not None:
            assert html.endswith("|host global")


class _Writer:
    @hookimpl
    def actor_access(self, actor: Any) -> ActorAccess:
        return ActorAccess(permissions=frozenset({"jobs:write"}), library_ids=None)


def _signed_in(app: Any) -> Any:
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        scope["user"] = "someone"
        await app(scope, receive, send)

    return middleware
