"""The plugin manager: hook specs, built-in plugins, and plugins found through entry points."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence

import pluggy

from shisho_jobs import hookspecs
from shisho_jobs.registry import JobTypeRegistry

ENTRY_POINT_GROUP = "shisho"
"""Entry-point group through which installed packages register hook implementations."""

DEFAULT_PLUGINS: tuple[str, ...] = ("shisho_jobs.default_job_types",)
"""Built-in behaviour, itself written as plugins."""

SCAN_HOOKS: tuple[str, ...] = ("get_library", "list_libraries", "scan_library")
"""The host's hooks a worker calls to scan: without them every scan fails."""

ACCESS_HOOKS: tuple[str, ...] = ("actor_access",)
"""The host's hook the web plugin calls on every request: without it nobody may do anything."""

HOW_TO_REGISTER = (
    "Register the module holding the host's @hookimpl functions in one of three ways: "
    "an entry point in the host's pyproject.toml "
    '([project.entry-points.shisho] my_host = "my_host.hooks", then reinstall the host), '
    "`shisho-jobs worker --plugin my_host.hooks` (run from the host's folder), or "
    "get_plugin_manager(plugins=[my_host.hooks]) in the host's code."
)
"""What to do when a host hook is not answered; part of every start-up warning."""

_logger = logging.getLogger("shisho_jobs.plugins")


def get_plugin_manager(
    *, load_entry_points: bool = True, plugins: Iterable[object | str] = ()
) -> pluggy.PluginManager:
    """A fresh plugin manager with the specs, the built-in plugins and the installed ones.

    Args:
        load_entry_points: also load every ``shisho`` entry point (installed plugins
            and the host's own hook implementations).
        plugins: extra plugins, as objects or importable module names
            (the worker's ``--plugin MODULE``).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    if load_entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins:
        if isinstance(plugin, str):
            if manager.get_plugin(plugin) is None:
                manager.register(importlib.import_module(plugin), name=plugin)
        elif not manager.is_registered(plugin):
            manager.register(plugin)
    return manager


def job_type_registry(manager: pluggy.PluginManager) -> JobTypeRegistry:
    """Every job type contributed through the ``job_types`` hook."""
    return JobTypeRegistry(spec for specs in manager.hook.job_types() for spec in specs)


def unanswered_hooks(manager: pluggy.PluginManager, hooks: Sequence[str]) -> list[str]:
    """The hooks among ``hooks`` that no registered plugin implements."""
    return [name for name in hooks if not getattr(manager.hook, name).get_hookimpls()]


def warn_about_unanswered_hooks(
    manager: pluggy.PluginManager, hooks: Sequence[str], *, who: str, consequence: str
) -> list[str]:
    """Log one warning naming the hooks nobody implements and how to register them.

    Called at start-up by the worker and the web plugin: a host whose hook module was
    not found would otherwise start quietly and fail later in a misleading way.

    Args:
        manager: the plugin manager in use.
        hooks: the hooks this component calls.
        who: the component, as the warning names it (``"shisho-jobs worker"``).
        consequence: what goes wrong without them, in words.

    Returns:
        The unanswered hooks (empty when all are answered; nothing is logged then).
    """
    missing = unanswered_hooks(manager, hooks)
    if missing:
        _logger.warning(
            "%s: no plugin answers %s, so %s. %s",
            who,
            ", ".join(missing),
            consequence,
            HOW_TO_REGISTER,
        )
    return missing
