"""Hook implementations of the example plugin.

- a ``greet`` job type whose handler logs a greeting and reports progress;
- observers of the job lifecycle that remember what they saw (``OBSERVED``);
- a nav item in its own slot ``example.sidebar``, shown only to actors who may
  read jobs (the permission check sits inside the contributor).

It stays out of the host's own slots so that installing it changes nothing a
user of the reference host sees.
"""

from __future__ import annotations

import html
from collections import deque

import msgspec

from shisho_jobs import Job, JobTypeSpec, NavContext, NavItem, hookimpl
from shisho_jobs.context import JobContext

PLUGIN_NAME = "shisho_example_plugin"
GREET_TYPE = "greet"
NAV_SLOT = "example.sidebar"

OBSERVED: deque[tuple[str, int, str]] = deque(maxlen=1000)
"""``(hook name, job id, job status)`` of the latest lifecycle calls seen in this process
(bounded: a long-running host that has the plugin installed must not grow it forever)."""


class GreetData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Payload of a ``greet`` job."""

    name: str = "world"
    """Who to greet."""


def run_greet(context: JobContext) -> None:
    """Log a greeting, with the plugin's name on the line."""
    data = context.job.data
    name = data.name if isinstance(data, GreetData) else "world"
    context.progress(1, 2)
    context.log.info(f"Hello, {name}!", {"name": name})
    context.progress(2, 2)


@hookimpl
def job_types() -> list[JobTypeSpec]:
    return [
        JobTypeSpec(name=GREET_TYPE, payload_type=GreetData, handler=run_greet, plugin=PLUGIN_NAME)
    ]


@hookimpl
def nav_items(slot: str, context: NavContext) -> list[NavItem]:
    if slot != NAV_SLOT or not context.access.can_read_jobs:
        return []
    label = html.escape(f"Greetings for library {context.library_id}")
    return [NavItem(html=f'<a data-testid="example-nav" href="/greetings">{label}</a>', order=50)]


@hookimpl
def job_created(job: Job) -> None:
    OBSERVED.append(("job_created", job.id, job.status.value))


@hookimpl
def job_started(job: Job) -> None:
    OBSERVED.append(("job_started", job.id, job.status.value))


@hookimpl
def job_progress(job: Job) -> None:
    OBSERVED.append(("job_progress", job.id, job.status.value))


@hookimpl
def job_finished(job: Job) -> None:
    OBSERVED.append(("job_finished", job.id, job.status.value))
