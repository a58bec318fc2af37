"""ResyncConfig: everything a host can set on the plugin, validated when the app starts."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litestar.exceptions import ImproperlyConfiguredException

from shisho_jobs import Database

if TYPE_CHECKING:
    import pluggy

    from shisho_resync_plugin.auth import CurrentActor

DEFAULT_STATIC_PATH = "/static/shisho-resync"


@dataclass
class ResyncConfig:
    """Configuration of :class:`~shisho_resync_plugin.ResyncPlugin`.

    Only ``database`` is required: ``ResyncConfig(database="sqlite:///var/shisho.db")``.
    """

    database: Database | str
    """Where the jobs live: a :class:`shisho_jobs.Database` or a SQLAlchemy URL."""

    plugin_manager: pluggy.PluginManager | None = None
    """The host's plugin manager (hooks ``actor_access``, ``nav_items``, libraries...).
    Default: ``shisho_jobs.get_plugin_manager()`` (built-ins plus installed entry points)."""

    api_prefix: str = "/api"
    """Path under which the jobs routes are mounted (``{api_prefix}/jobs``)."""

    job_page_url: str = "/settings/jobs/{id}"
    """The host's page of one job; ``{id}`` is replaced by the job id. The button opens it."""

    run_worker: bool = True
    """Start a ``shisho_jobs.Worker`` in this process when the app starts (stopped at shutdown).
    Set ``False`` when workers run as separate ``shisho-jobs worker`` processes."""

    worker_concurrency: int = 1
    """Jobs the in-process worker runs at once."""

    worker_options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments for the in-process ``Worker`` (``lease_seconds``, ...)."""

    include_in_schema: bool = True
    """Whether the jobs routes appear in the app's OpenAPI schema."""

    require_csrf: bool = True
    """Refuse to start when the app has no ``csrf_config``: ``POST {api_prefix}/jobs`` is an
    unsafe request authenticated by a cookie session and needs Litestar's CSRF middleware."""

    guards: Sequence[Any] = ()
    """Extra Litestar guards run before every jobs route (on top of the built-in checks)."""

    static_path: str = DEFAULT_STATIC_PATH
    """Where the button's ES module is served (``{static_path}/resync-button.js``)."""

    nav_template_global: bool | None = None
    """Register the Jinja global ``shisho_nav_slot`` in the host's templates.
    ``None``: when the app has a Jinja template config; ``True``: required (a clear error
    when the app has none); ``False``: never."""

    register_nav_items: bool = True
    """Contribute the resync button to the ``top_nav.after_library_switcher`` slot."""

    keepalive_interval: float = 15.0  # seconds
    """How often an idle event stream sends a keep-alive comment."""

    sqlite_poll_interval: float = 0.25  # seconds
    """On SQLite, how often the shared watcher looks for new events (one query for all streams)
    even when nothing woke it; commits by other processes wake it within milliseconds."""

    postgres_fallback_interval: float = 5.0  # seconds
    """On PostgreSQL, how often the watcher looks for events even without a notification."""

    replay_limit: int = 1000
    """A reconnecting stream replays at most this many missed events; beyond that (or when the
    events it asks for are no longer kept) it gets a fresh snapshot instead."""

    snapshot_size: int = 20
    """How many of the newest jobs a snapshot carries."""

    list_cache_seconds: float = 2.0  # seconds
    """Keep ``GET {api_prefix}/jobs`` answers (per query and visible libraries) until the
    jobs change, at most this long; ``0`` turns the cache off. Changes by any process are
    seen through the job events (on SQLite within ``sqlite_poll_interval``); deletions by
    retention, which write no event, show within this time."""

    actor_access_is_fast: bool = False
    """The host's ``actor_access`` hook answers from memory (no database, no network), so the
    plugin may call it on the event loop. Then a kept ``GET {api_prefix}/jobs`` answer is
    served without a hop to a worker thread. Leave ``False`` when the hook does any I/O."""

    max_body_size: int = 64 * 1024  # bytes
    """Largest accepted ``POST {api_prefix}/jobs`` body; larger ones get 413."""

    waiting_refresh_interval: float = 2.0  # seconds
    """How often this process deletes expired worker rows and refreshes pending jobs'
    ``waiting``, so a job says "No worker is running." soon after the last worker died
    (workers do it themselves while any runs)."""

    max_streams_per_user: int = 8
    """Open event streams one user may have at once; the next one gets 429. (A browser
    shares one stream among its tabs, so a person rarely needs more than a few.)"""

    actor_key: Callable[[Any], Hashable] | None = None
    """Who an actor is, for counting its streams. Default: the actor's ``id`` attribute when
    it has one, else the actor itself (see ``auth.default_actor_key``)."""

    current_actor: CurrentActor | None = None
    """Who an open event stream's request signs in as now (the host reads its session
    again), sync or async; ``None`` when nobody (the session ended). Asked at least once
    every ``keepalive_interval``: a stream whose session ended, or whose user's access
    changed, ends then. Without it only the access is checked again (``actor_access``
    with the actor the stream opened with), so a logout is not noticed."""

    close_streams_on_signal: bool = True
    """Close event streams as soon as the server is asked to stop (SIGTERM/SIGINT). Servers
    such as uvicorn wait for open responses before running shutdown hooks, so without this
    open streams would hold the shutdown up."""

    def validate(self) -> None:
        """Raise ``ImproperlyConfiguredException`` naming the first wrong field."""
        for name in ("actor_key", "current_actor"):
            if getattr(self, name) is not None and not callable(getattr(self, name)):
                _fail(name, "must be a callable or None")
        if not isinstance(self.database, Database | str) or (
            isinstance(self.database, str) and not self.database.strip()
        ):
            _fail("database", "must be a shisho_jobs.Database or a SQLAlchemy URL string")
        for name in ("api_prefix", "static_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
                _fail(name, f"must be a path starting with '/' and not ending with '/' ({value!r})")
        if not isinstance(self.job_page_url, str) or "{id}" not in self.job_page_url:
            _fail("job_page_url", f"must contain the placeholder '{{id}}' ({self.job_page_url!r})")
        if isinstance(self.worker_concurrency, bool) or not isinstance(
            self.worker_concurrency, int
        ):
            _fail("worker_concurrency", "must be an integer")
        if self.worker_concurrency < 1:
            _fail("worker_concurrency", "must be 1 or more")
        for name in (
            "keepalive_interval",
            "sqlite_poll_interval",
            "postgres_fallback_interval",
            "waiting_refresh_interval",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                _fail(name, f"must be a positive number of seconds ({value!r})")
        cache = self.list_cache_seconds
        if isinstance(cache, bool) or not isinstance(cache, int | float) or cache < 0:
            _fail("list_cache_seconds", f"must be 0 or a positive number of seconds ({cache!r})")
        for name in ("replay_limit", "snapshot_size", "max_body_size", "max_streams_per_user"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(name, f"must be a positive integer ({value!r})")


def _fail(field_name: str, reason: str) -> None:
    raise ImproperlyConfiguredException(f"ResyncConfig.{field_name} {reason}")
