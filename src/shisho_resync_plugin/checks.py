"""Start-up checks of ResyncPlugin: settings the button cannot work with stop the app, and
host hooks nobody answers are named in a warning, instead of failing later without a word."""

from __future__ import annotations

import pluggy
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import ImproperlyConfiguredException

from shisho_jobs.plugins import ACCESS_HOOKS, warn_about_unanswered_hooks


def check_csrf(csrf_config: CSRFConfig | None, *, require_csrf: bool, api_prefix: str) -> None:
    """Refuse a CSRF set-up under which the button's clicks would all be refused.

    Args:
        csrf_config: the app's ``csrf_config``.
        require_csrf: ``ResyncConfig.require_csrf``.
        api_prefix: ``ResyncConfig.api_prefix``, for the message.

    Raises:
        ImproperlyConfiguredException: no CSRF config although one is required, or an
            HttpOnly CSRF cookie (the button reads the token from ``document.cookie``, so
            every click would get 403 and nothing visible would happen).
    """
    if csrf_config is None:
        if require_csrf:
            raise ImproperlyConfiguredException(
                "ResyncPlugin: the app has no csrf_config, but POST "
                f"{api_prefix}/jobs is authenticated by the session cookie. Add "
                "Litestar(csrf_config=CSRFConfig(secret=..., cookie_name='csrftoken', "
                "header_name='x-csrftoken')), or set ResyncConfig.require_csrf=False if "
                "requests are authenticated another way."
            )
        return
    if csrf_config.cookie_httponly:
        raise ImproperlyConfiguredException(
            "ResyncPlugin: CSRFConfig.cookie_httponly=True hides the CSRF token from the "
            "resync button, which reads it from document.cookie and sends it in the "
            f"{csrf_config.header_name!r} header: every click would get 403. Remove "
            "cookie_httponly (the double-submit token is meant to be readable by the "
            "page's own scripts; other sites still cannot read it)."
        )


def warn_about_unanswered_access_hook(plugin_manager: pluggy.PluginManager) -> list[str]:
    """Log a warning when no plugin answers ``actor_access`` (then nobody may do anything).

    Returns:
        The unanswered hooks (empty when ``actor_access`` is answered).
    """
    return warn_about_unanswered_hooks(
        plugin_manager,
        ACCESS_HOOKS,
        who="ResyncPlugin",
        consequence=(
            'every signed-in user has no permissions (403 "You need the jobs:read '
            'permission.", and no resync button)'
        ),
    )
