"""The marker plugins use to implement shisho hooks: ``@hookimpl``."""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("shisho")
