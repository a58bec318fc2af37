"""A small Server-Sent Events reader for tests, with deadlines instead of sleeps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    """One SSE event (comments are skipped)."""

    id: int | None
    name: str
    job: dict[str, Any]


class SseReader:
    """Reads events from a streaming httpx response. The server's keep-alive comments
    keep lines coming, so every read checks the deadline at least that often."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines: Iterator[str] = response.iter_lines()
        self.ended = False

    def next(self, deadline: float) -> Event | None:
        """The next event, or ``None`` once the stream has ended."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if time.monotonic() > deadline:
                raise TimeoutError("no event before the deadline")
            if line == "":
                if "event" in fields:
                    return Event(
                        id=int(fields["id"]) if "id" in fields else None,
                        name=fields["event"],
                        job=json.loads(fields.get("data", "null")),
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")
        self.ended = True
        return None

    def take(self, count: int, timeout: float = 15.0) -> list[Event]:
        """The next ``count`` events."""
        deadline = time.monotonic() + timeout
        events: list[Event] = []
        while len(events) < count:
            event = self.next(deadline)
            if event is None:
                raise AssertionError(f"stream ended after {events}")
            events.append(event)
        return events

    def until(self, predicate: Any, timeout: float = 15.0) -> list[Event]:
        """Events up to and including the first one for which ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        events: list[Event] = []
        while True:
            event = self.next(deadline)
            if event is None:
                raise AssertionError(f"stream ended after {events}")
            events.append(event)
            if predicate(event):
                return events
