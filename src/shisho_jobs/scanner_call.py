"""Calling the host's ``scan_library`` so that the lines it logs carry the host's name.

The ``scan`` job type belongs to shisho_jobs, so its logger labels lines ``shisho_jobs``;
what the scanner logs ("Skipped a file") is the host's, and a reader of the job's log
should see whose it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pluggy import HookImpl

from shisho_jobs.hooktypes import Library

if TYPE_CHECKING:
    from shisho_jobs.context import JobContext


def plugin_label(impl: HookImpl) -> str:
    """The name shown beside a plugin's log lines: its registered name, else its class's."""
    name = impl.plugin_name
    if name.isdigit():  # an object registered without a name gets its id
        kind = type(impl.plugin)
        return f"{kind.__module__}.{kind.__qualname__}"
    return name


def call_scan_library(context: JobContext, library: Library) -> Any:
    """The first answer of ``scan_library``, each implementation logging under its own name.

    Implementations are tried in pluggy's order (last registered first) until one answers
    something other than ``None``, as a ``firstresult`` hook does.

    Returns:
        The answer, or ``None`` when no implementation answered.
    """
    hook = context.plugin_manager.hook.scan_library
    impls = hook.get_hookimpls()
    if any(impl.hookwrapper or impl.wrapper for impl in impls):
        # Wrappers need pluggy's own call loop; the lines then keep the job type's label.
        return hook(library=library, context=context)
    for impl in reversed(impls):
        scoped = replace(context, log=context.log.for_plugin(plugin_label(impl)))
        arguments = {"library": library, "context": scoped}
        answer = impl.function(*(arguments[name] for name in impl.argnames))
        if answer is not None:
            return answer
    return None
