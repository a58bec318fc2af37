"""ResyncPlugin's start-up checks: an HttpOnly CSRF cookie stops the app with a clear message,
and a missing ``actor_access`` hook is named in a warning (issue 14, problems 1 and 5)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import ImproperlyConfiguredException

from shisho_jobs import ActorAccess, get_plugin_manager, hookimpl
from shisho_resync_plugin import ResyncConfig, ResyncPlugin


def _app(sqlite_url: str, csrf: CSRFConfig, **config: Any) -> Litestar:
    plugin = ResyncPlugin(ResyncConfig(database=sqlite_url, run_worker=False, **config))
    return Litestar(plugins=[plugin], csrf_config=csrf)


def test_an_httponly_csrf_cookie_is_refused_at_start(sqlite_url: str) -> None:
    csrf = CSRFConfig(secret="s", cookie_httponly=True)
    manager = get_plugin_manager(load_entry_points=False)
    with pytest.raises(ImproperlyConfiguredException) as refused:
        _app(sqlite_url, csrf, plugin_manager=manager)
    message = str(refused.value)
    assert "cookie_httponly=True" in message
    assert "document.cookie" in message
    assert "403" in message


def test_a_readable_csrf_cookie_is_accepted(sqlite_url: str) -> None:
    app = _app(sqlite_url, CSRFConfig(secret="s"), plugin_manager=get_plugin_manager())
    assert isinstance(app, Litestar)


class _Host:
    @hookimpl
    def actor_access(self, actor: Any) -> ActorAccess:
        return ActorAccess(permissions=frozenset({"jobs:read"}), library_ids=None)


def test_no_actor_access_hook_is_a_warning_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    manager = get_plugin_manager(load_entry_points=False)  # what a host that is not installed gets
    with caplog.at_level(logging.WARNING, logger="shisho_jobs.plugins"):
        _app(sqlite_url, CSRFConfig(secret="s"), plugin_manager=manager)
    (warning,) = [record.getMessage() for record in caplog.records]
    assert warning.startswith("ResyncPlugin: no plugin answers actor_access")
    assert '403 "You need the jobs:read permission."' in warning
    assert "get_plugin_manager(plugins=[my_host.hooks])" in warning
    assert "[project.entry-points.shisho]" in warning


def test_an_answered_actor_access_hook_is_no_warning(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    manager = get_plugin_manager(load_entry_points=False, plugins=[_Host()])
    with caplog.at_level(logging.WARNING, logger="shisho_jobs.plugins"):
        _app(sqlite_url, CSRFConfig(secret="s"), plugin_manager=manager)
    assert caplog.records == []
