"""The plugin manager: hook specs, built-in plugins, and plugins found through entry points."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import pluggy

from shisho_jobs import hookspecs
from shisho_jobs.registry import JobTypeRegistry

ENTRY_POINT_GROUP = "shisho"
"""Entry-point group through which installed packages register hook implementations."""

DEFAULT_PLUGINS: tuple[str, ...] = ("shisho_jobs.default_job_types",)
"""Built-in behaviour, itself written as plugins."""


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
