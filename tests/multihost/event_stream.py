"""Reading a host's event stream the way a browser's EventSource does, resuming by id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from multihost.hosts import Session

READ_TIMEOUT = 30.0  # seconds without a byte (keep-alives come far more often)


@dataclass(frozen=True)
class StreamEvent:
    """One event as received: its outbox id, name and job."""

    id: int
    name: str
    job: dict[str, Any]
    received_at: float
    """When it arrived (``time.time()``, to compare with the database's timestamps)."""


@dataclass
class EventLog:
    """Every event one client received over all its connections, and how often it connected."""

    events: list[StreamEvent] = field(default_factory=list)
    connections: int = 0

    @property
    def last_id(self) -> int | None:
        """What the client sends as ``Last-Event-ID`` when it reconnects."""
        return self.events[-1].id if self.events else None


def _parse(block: list[str]) -> StreamEvent | None:
    fields: dict[str, str] = {}
    for line in block:
        if line.startswith(":"):
            continue  # keep-alive comment
        key, _, value = line.partition(":")
        fields[key] = value.removeprefix(" ")
    if "event" not in fields or "id" not in fields:
        return None
    job = json.loads(fields.get("data", "null"))
    return StreamEvent(int(fields["id"]), fields["event"], job, time.time())


def follow(
    session: Session,
    log: EventLog,
    until: Callable[[StreamEvent], bool],
    *,
    timeout: float,
    library_id: int | None = None,
) -> StreamEvent:
    """Read events into ``log`` until one satisfies ``until``; reconnect like EventSource.

    A dropped stream (the server closed it, the connection broke, an error answer)
    is opened again with ``Last-Event-ID`` set to the last id received.

    Returns:
        The event that satisfied ``until``.
    """
    deadline = time.monotonic() + timeout
    params = {} if library_id is None else {"library_id": str(library_id)}
    while time.monotonic() < deadline:
        headers = {} if log.last_id is None else {"Last-Event-ID": str(log.last_id)}
        try:
            with session.client.stream(
                "GET",
                "/api/jobs/events",
                params=params,
                headers=headers,
                timeout=httpx.Timeout(10.0, read=READ_TIMEOUT),
            ) as response:
                if response.status_code != 200:
                    response.read()
                    time.sleep(0.5)  # EventSource's retry delay on an error answer
                    continue
                log.connections += 1
                block: list[str] = []
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        break
                    if line:
                        block.append(line)
                        continue
                    event = _parse(block)
                    block = []
                    if event is None:
                        continue
                    log.events.append(event)
                    if until(event):
                        return event
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"no matching event within {timeout:.0f} s; got {log.events}")
